-- Temporary macros the ingest SQL shares; created once per connection.

-- A count that arrived as text (so a wrong JSON type cannot fail the whole file) but is
-- not a number: the record is quarantined.
CREATE OR REPLACE TEMP MACRO gl_bad_count(v) AS
    v IS NOT NULL AND TRY_CAST(v AS DOUBLE) IS NULL;

-- A count as BIGINT; missing (older logs lack cache counts) is 0.
CREATE OR REPLACE TEMP MACRO gl_count(v) AS coalesce(TRY_CAST(v AS DOUBLE), 0)::BIGINT;

-- The first non-NULL element of a list (stream chunks carry a field in one chunk only).
CREATE OR REPLACE TEMP MACRO gl_first(l) AS list_filter(l, lambda x: x IS NOT NULL)[1];

-- Geo/global prefix of a system inference profile id (us., eu., apac., global., ...).
CREATE OR REPLACE TEMP MACRO gl_geo_prefix(id) AS
    nullif(regexp_extract(id, '^(us|eu|apac|global|us-gov|jp|au|ca|ap)\.', 1), '');

-- requestMetadata reduced to the keys attribution looks at (NULL when absent).
CREATE OR REPLACE TEMP MACRO gl_md_project(md, keys) AS
    CASE WHEN md IS NOT NULL THEN map_from_entries(list_filter(
        map_entries(md), lambda e: list_contains(keys, e.key))) END;
