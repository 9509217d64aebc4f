-- Spend: reserved-tier capacity and how much of it its calls use, from the newest models run.
-- Grain: model x region. The reservation is the organisation's: all-LOB readers only.
-- Parameters: $all_lobs.
SELECT model, region, reserved_tpm, monthly_usd, calls, tokens, mean_tpm, peak_tpm,
    mean_tpm / reserved_tpm AS mean_use, peak_tpm / reserved_tpm AS peak_use,
    window_from, window_to
FROM reserved_utilisation
WHERE $all_lobs
QUALIFY computed_at = max(computed_at) OVER ()
ORDER BY monthly_usd DESC, model, region
