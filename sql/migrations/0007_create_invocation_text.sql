-- Prompt and response text, only when the operator opts in (capture_text = true), and only
-- after PII and secret redaction (genai_lens/redaction.py). Grain: request_id. Deleted after
-- retention.text_days by `genai-lens vacuum`; never read by a chart, only by the drill-down.
CREATE TABLE invocation_text (
    request_id      VARCHAR NOT NULL,
    ts              TIMESTAMP NOT NULL,
    prompt          VARCHAR,               -- redacted; cut at 32 KB
    response        VARCHAR,               -- redacted; cut at 32 KB
    redactions      INTEGER NOT NULL,      -- placeholders inserted in the two
    source_object   VARCHAR NOT NULL
);
