-- transactional: true
-- mode: incremental

-- task: incremental
insert into "test-proj"."analytics"."appended" ("event_id", "user_id", "amount", "loaded_at")
select "event_id", "user_id", "amount", "loaded_at"
from (

select event_id, user_id, amount, loaded_at
from "raw"."events"
where loaded_at > (select max(loaded_at) from "analytics"."appended")

) as insertions;
