-- transactional: true
-- mode: full

-- task: main
create or replace table "my-proj"."analytics"."source" as

select 1 as id, 'a' as name union all select 2, 'b';
