-- transactional: false

-- task: statement
create or replace view "test-proj"."quality"."orders_without_customer" as


-- Invariant: every order's customer exists in customers.
select o.order_id, o.customer_id
from "analytics"."orders" as o
left join "analytics"."customers" as c on c.customer_id = o.customer_id
where c.customer_id is null;

-- task: assertion
select count(*) as row_count from "test-proj"."quality"."orders_without_customer";
