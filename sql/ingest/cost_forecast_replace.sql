-- Today's Cost Explorer forecast of one source replaces any earlier one made the same day.
DELETE FROM cost_forecast
WHERE source_zone = $zone AND CAST(created_at AS DATE) = CAST($created_at AS DATE);
INSERT INTO cost_forecast BY NAME SELECT * FROM cost_forecast_ready;
