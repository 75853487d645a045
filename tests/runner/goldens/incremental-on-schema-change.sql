-- transactional: true
-- mode: incremental

-- task: incremental
-- onSchemaChange EXTEND: the table's columns are compared with the query's before this
merge into "test-proj"."analytics"."on_extend" as dataform_dest
using (



select
  id,
  name,
  score,
  
  1 as version
from (select range as id, 'n' || range as name, range * 10 as score from range(3)) as source

) as dataform_source
on dataform_dest."id" = dataform_source."id"
when matched then update set "id" = dataform_source."id", "name" = dataform_source."name", "score" = dataform_source."score", "version" = dataform_source."version"
when not matched then insert ("id", "name", "score", "version") values (dataform_source."id", dataform_source."name", dataform_source."score", dataform_source."version");
