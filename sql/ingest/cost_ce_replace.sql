-- Replace one Cost Explorer source's re-pulled days with cost_ready: bills are restated,
-- so the re-pulled days' earlier rows go, whatever they held.
DELETE FROM cost_daily
WHERE source = 'ce' AND source_object = $label AND usage_date >= $start AND usage_date < $end;
INSERT INTO cost_daily BY NAME SELECT * FROM cost_ready;
