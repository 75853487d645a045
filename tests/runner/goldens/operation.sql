-- transactional: false

-- task: statement


create table if not exists analytics.housekeeping_log (note varchar);

-- task: statement

insert into analytics.housekeeping_log select 'labels: ' || count(*) from "analytics"."uses_lookup";
