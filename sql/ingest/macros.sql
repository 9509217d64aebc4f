-- Temporary macros the ingest SQL shares; created once per connection.

-- A JSON count field that is present but not a number (a record to quarantine).
CREATE OR REPLACE TEMP MACRO gl_bad_count(j, p) AS
    json_type(j, p) IS NOT NULL AND json_type(j, p) NOT IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'NULL');

-- A JSON count field as BIGINT; missing (older logs lack cache counts) is 0.
CREATE OR REPLACE TEMP MACRO gl_count(j, p) AS
    coalesce(TRY_CAST(json_extract_string(j, p) AS DOUBLE), 0)::BIGINT;

-- The first non-NULL element of a list (stream chunks carry a field in one chunk only).
CREATE OR REPLACE TEMP MACRO gl_first(l) AS list_filter(l, lambda x: x IS NOT NULL)[1];

-- Geo/global prefix of a system inference profile id (us., eu., apac., global., ...).
CREATE OR REPLACE TEMP MACRO gl_geo_prefix(id) AS
    nullif(regexp_extract(id, '^(us|eu|apac|global|us-gov|jp|au|ca|ap)\.', 1), '');

-- requestMetadata reduced to the keys attribution looks at (a MAP; NULL when absent).
CREATE OR REPLACE TEMP MACRO gl_md_project(md, keys) AS
    CASE WHEN json_type(md) = 'OBJECT' THEN map_from_entries(list_filter(
        map_entries(TRY_CAST(md AS MAP(VARCHAR, VARCHAR))),
        lambda e: list_contains(keys, e.key))) END;
