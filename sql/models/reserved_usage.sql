-- Reserved-tier calls per model x region in [$start, $end): calls, tokens and the busiest
-- minute's tokens (grain: model x region). Tokens: input, output and cache tokens.
WITH minutes AS (
    SELECT model, region, date_trunc('minute', ts) AS minute, count(*) AS calls,
        sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) AS tokens
    FROM invocations
    WHERE ts >= $start AND ts < $end AND service_tier = 'reserved' AND model IS NOT NULL
    GROUP BY ALL
)
SELECT model, region, sum(calls)::BIGINT AS calls, sum(tokens)::BIGINT AS tokens,
    max(tokens)::DOUBLE AS peak_tpm
FROM minutes
GROUP BY ALL
