/**
 * SQL that judges one line of an NDJSON file or one record of any other source: the one set
 * of quarantine reasons, whichever loader ran. `lineSql` is the line without its line ending. The verdict is NULL for a line that lands
 * (exactly one JSON object), 'blank' for a blank line, and otherwise the reason the line
 * goes to the quarantine. The first test is the only one that lines starting with `{` pay:
 * trimming and the regular expressions that name a fault run for the other lines only.
 */
export function lineVerdictSql(lineSql: string): string {
  const t = withoutBomSql(lineSql);
  const blankChars = `' ' || chr(9) || chr(13)`;
  return `case
    when ${lineSql} like '{%' and json_valid(${lineSql}) then null
    when ${lineSql} is null or trim(${t}, ${blankChars}) = '' then 'blank'
    when json_valid(${t}) then
      case when ltrim(${t}, ${blankChars}) like '{%' then null
      else 'not a JSON object: the line holds ' || case json_type(${t})
        when 'ARRAY' then 'an array' when 'VARCHAR' then 'a string' when 'BOOLEAN' then 'a boolean'
        when 'NULL' then 'null' else 'a number' end
      end
    when regexp_matches(${t}, '[\\x00-\\x1F]') then 'invalid JSON: unescaped control character'
    when json_valid('[' || regexp_replace(${t}, '([}\\]])\\s*([{\\[])', '\\1,\\2', 'g') || ']')
      then 'more than one JSON value on the line'
    when json_valid(regexp_extract(${t}, '^(.*[}\\]])', 1))
      then 'trailing content after the JSON value'
    when length(regexp_replace(regexp_replace(${t}, '\\\\.', '', 'g'), '[^"]', '', 'g')) % 2 = 1
      then 'invalid JSON: unterminated string'
    when length(regexp_replace(${t}, '[^{\\[]', '', 'g')) > length(regexp_replace(${t}, '[^}\\]]', '', 'g'))
      then 'invalid JSON: truncated (unclosed object or array)'
    else 'invalid JSON'
  end`;
}

/** The JSON text that lands for a line the verdict passed: the line, less a leading byte-order mark. */
export function payloadSql(lineSql: string): string {
  return `case when ${lineSql} like '{%' then ${lineSql} else ${withoutBomSql(lineSql)} end`;
}

/** `text` with one leading byte-order mark removed. */
function withoutBomSql(textSql: string): string {
  return `case when starts_with(${textSql}, chr(65279)) then substr(${textSql}, 2) else ${textSql} end`;
}
