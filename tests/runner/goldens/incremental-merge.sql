-- transactional: true
-- mode: incremental

-- task: statement

  insert into "raw"."ops_log" values ('merged', 'incremental-pre');

-- task: incremental
merge into "test-proj"."analytics"."merged" as dataform_dest
using (



-- Safe to re-run: only rows loaded after the newest row already merged are read.
select event_id, user_id, amount, loaded_at
from "raw"."events"
where loaded_at > (select max(loaded_at) from "analytics"."merged")



) as dataform_source
on dataform_dest."event_id" = dataform_source."event_id"
when matched then update set "event_id" = dataform_source."event_id", "user_id" = dataform_source."user_id", "amount" = dataform_source."amount", "loaded_at" = dataform_source."loaded_at"
when not matched then insert ("event_id", "user_id", "amount", "loaded_at") values (dataform_source."event_id", dataform_source."user_id", dataform_source."amount", dataform_source."loaded_at");

-- task: statement

  insert into "raw"."ops_log" values ('merged', 'incremental-post');
