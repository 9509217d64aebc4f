-- Keep one record per requestId in a batch: the last one (files in key order, lines in
-- file order). Bedrock should not repeat a requestId; a re-delivered object can.
DELETE FROM inv_parsed WHERE rowid IN (
    SELECT rowid FROM inv_parsed WHERE reason IS NULL
    QUALIFY row_number() OVER (PARTITION BY request_id
                               ORDER BY local_file DESC, line DESC NULLS LAST) > 1);
