-- transactional: true
-- mode: incremental
-- note: protected: --full-refresh ignored, ran incrementally

-- task: incremental
merge into "test-proj"."analytics"."snapshot" as dataform_dest
using (

select event_id, user_id, amount, loaded_at
from "raw"."events"
where loaded_at > (select max(loaded_at) from "analytics"."snapshot")

) as dataform_source
on dataform_dest."event_id" = dataform_source."event_id"
when matched then update set "event_id" = dataform_source."event_id", "user_id" = dataform_source."user_id", "amount" = dataform_source."amount", "loaded_at" = dataform_source."loaded_at"
when not matched then insert ("event_id", "user_id", "amount", "loaded_at") values (dataform_source."event_id", dataform_source."user_id", dataform_source."amount", dataform_source."loaded_at");
