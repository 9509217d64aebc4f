-- Spend: how close the learned-rate estimate came to the final bill on held-out days, from
-- the newest models run. Grain: model, with '(total)' first. The figures are the whole
-- bill's: shown to readers of every LOB only. Parameters: $all_lobs.
SELECT model, held_from, held_to, estimate_usd, bill_usd, pct, excluded_cells, computed_at
FROM estimate_backtest
WHERE $all_lobs
QUALIFY computed_at = max(computed_at) OVER ()
ORDER BY model = '(total)' DESC, abs(pct) DESC NULLS LAST, model
