-- transactional: false

-- task: statement
create or replace view "test-proj"."quality"."analytics_orders_assertions_uniqueKey_0" as

SELECT
  *
FROM (
  SELECT
    order_id,
    COUNT(1) AS index_row_count
  FROM "analytics"."orders"
  GROUP BY order_id
  ) AS data
WHERE index_row_count > 1;

-- task: assertion
select count(*) as row_count from "test-proj"."quality"."analytics_orders_assertions_uniqueKey_0";
