-- transactional: true

-- task: main
create or replace view "my-proj"."analytics"."js_view" as
select * from "analytics"."inc";
