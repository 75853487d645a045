-- transactional: true
-- mode: full

-- task: statement

  insert into "raw"."ops_log" values ('merged', 'full-pre');

-- task: main
create or replace table "test-proj"."analytics"."merged" as




-- Safe to re-run: only rows loaded after the newest row already merged are read.
select event_id, user_id, amount, loaded_at
from "raw"."events";

-- task: statement

  insert into "raw"."ops_log" values ('merged', 'full-post');
