-- Parse CloudTrail trail files into typed rows (grain: one record of one file).
-- (The caller wraps it: CREATE TEMP TABLE ct_parsed AS … or INSERT INTO ct_parsed ….)
-- $files: local paths (gzip or plain) each holding {"Records":[…]}; $sources: the eventSource
-- values kept (others are dropped, not quarantined). Fields are read by key in one pass, so any
-- field order loads and unknown fields are ignored. `idx` is the record's 1-based position in
-- its file; a file whose Records is not an array gives one row with idx 0 and a reason.
-- $max_object: the largest file's inflated size the read allows (the reader's buffer is twice
-- it; ingest/cloudtrail/readers.py sizes it to the files read, at most 256 MB, so the buffer
-- stays under the warehouse memory limit and a bigger file is quarantined, not loaded).
-- `reason` is set for a row that must be quarantined instead of loaded.
WITH files AS (
    SELECT filename AS local_file, json AS doc, json_type(json, '$.Records') AS records_type
    FROM read_json_objects($files, filename = true, format = 'unstructured',
                           maximum_object_size = $max_object)
), recs AS (
    SELECT local_file, json_extract(doc, '$.Records[*]') AS recs
    FROM files WHERE records_type = 'ARRAY'
), flat AS (
    SELECT local_file, unnest(recs) AS rec, unnest(range(1, len(recs) + 1)) AS idx FROM recs
), fields AS (
    SELECT local_file, idx, rec,
        json_extract_string(rec, [
            '$.eventID', '$.eventTime', '$.eventSource', '$.eventName', '$.eventCategory',
            '$.eventType', '$.readOnly', '$.userIdentity.arn', '$.userIdentity.type',
            '$.userIdentity.accountId', '$.userIdentity.sessionContext.sessionIssuer.arn',
            '$.sourceIPAddress', '$.userAgent', '$.awsRegion', '$.recipientAccountId',
            '$.requestID', '$.errorCode', '$.errorMessage', '$.requestParameters.modelId',
            '$.requestParameters.guardrailIdentifier', '$.requestParameters.guardrailId',
            '$.responseElements.guardrailId']) AS f,
        -- The three objects kept whole, in one more parse of the record (not one per field).
        json_extract(rec, ['$.requestParameters', '$.responseElements',
                           '$.additionalEventData']) AS objs
    FROM flat
), typed AS (
    SELECT local_file, idx, f, objs,
        trim(f[2]) AS t,
        -- Lenient time: 'T' or ' ', any number of fractional digits (DuckDB keeps
        -- microseconds), 'Z' or an offset; no zone at all means UTC.
        CASE WHEN regexp_matches(t, '(Z|z|[+-]\d{2}(:?\d{2})?)$') THEN t ELSE t || 'Z' END
            AS t_zoned,
        TRY_CAST(t_zoned AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS event_time
    FROM fields
)
SELECT
    local_file, idx,
    CASE
        WHEN f[1] IS NULL OR f[1] = '' THEN 'record has no eventID'
        WHEN event_time IS NULL THEN 'unparseable eventTime: ' || coalesce(f[2], 'missing')
        WHEN f[3] IS NULL THEN 'record has no eventSource'
    END AS reason,
    f[1] AS event_id, event_time, f[3] AS event_source, f[4] AS event_name,
    f[5] AS event_category, f[6] AS event_type, TRY_CAST(f[7] AS BOOLEAN) AS read_only,
    -- What an event changed, by its name. Runtime calls are 'invocation' (they are management
    -- events, so a trail has one per model call); other Get/List/Describe calls are 'read';
    -- an attempt that failed keeps its kind (error_code tells it apart).
    CASE
        WHEN f[4] IN ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse',
                      'ConverseStream', 'ApplyGuardrail', 'CountTokens', 'StartAsyncInvoke',
                      'InvokeAgent', 'InvokeInlineAgent', 'InvokeFlow', 'Retrieve',
                      'RetrieveAndGenerate', 'RetrieveAndGenerateStream', 'Rerank')
            THEN 'invocation'
        WHEN regexp_matches(f[4], '^(Get|List|Describe|Search|Check)')
            OR (TRY_CAST(f[7] AS BOOLEAN) AND f[4] IS NOT NULL) THEN 'read'
        WHEN f[4] LIKE '%Guardrail%' THEN 'guardrail'
        WHEN f[4] LIKE '%ModelInvocationLoggingConfiguration' THEN 'logging_config'
        WHEN f[4] LIKE '%UseCaseForModelAccess' OR f[4] LIKE '%FoundationModelAgreement'
            OR f[4] LIKE '%FoundationModelEntitlement' THEN 'model_access'
        WHEN f[4] LIKE '%ProvisionedModelThroughput' THEN 'provisioned_throughput'
        WHEN f[4] LIKE '%InferenceProfile' THEN 'inference_profile'
        WHEN f[4] LIKE '%CustomModel%' OR f[4] LIKE '%ModelCustomizationJob'
            OR f[4] LIKE '%ModelImportJob' OR f[4] LIKE '%ImportedModel'
            OR f[4] LIKE '%ModelCopyJob' THEN 'custom_model'
        ELSE 'other'
    END AS change_kind,
    f[8] AS principal_arn, f[9] AS principal_type, f[10] AS principal_account_id,
    f[11] AS session_issuer_arn, f[12] AS source_ip, f[13] AS user_agent, f[14] AS aws_region,
    f[15] AS recipient_account_id, f[16] AS request_id, f[17] AS error_code,
    f[18] AS error_message, f[19] AS model_id,
    -- guardrailIdentifier may be an ARN (…:guardrail/<id>); keep the id.
    nullif(coalesce(regexp_extract(f[20], ':guardrail/([^/:]+)', 1), ''), '') AS gr_from_arn,
    coalesce(gr_from_arn, f[20], f[21], f[22]) AS guardrail_id,
    -- A JSON null is no value (NULL), as an absent key is.
    CASE WHEN objs[1]::VARCHAR <> 'null' THEN objs[1] END AS request_parameters,
    CASE WHEN objs[2]::VARCHAR <> 'null' THEN objs[2] END AS response_elements,
    CASE WHEN objs[3]::VARCHAR <> 'null' THEN objs[3] END AS additional_event_data
FROM typed
WHERE f[3] IS NULL OR f[3] IN (SELECT unnest($sources::VARCHAR[]))
UNION ALL BY NAME
SELECT local_file, 0 AS idx,
    'not a CloudTrail file: no "Records" array (got ' || coalesce(records_type, 'nothing')
        || ')' AS reason
FROM files WHERE records_type IS DISTINCT FROM 'ARRAY'
