WITH su AS (SELECT u.unit_id AS unit_id, g.unit_id AS level_id FROM units u JOIN units g ON g.kind = ? AND u.path LIKE (g.path || ?) WHERE (u.path LIKE ? OR u.path LIKE ?))
SELECT su.level_id AS g0, (year(f.day) * 100 + month(f.day)) AS g1, COUNT(*) AS n, SUM(CAST(f.nps >= 9 AS INTEGER)) - SUM(CAST(f.nps <= 6 AS INTEGER)) AS s1, SUM(CAST(f.nps >= 9 AS INTEGER)) + SUM(CAST(f.nps <= 6 AS INTEGER)) AS s2 FROM responses f JOIN su ON su.unit_id = f.unit_id
WHERE f.nps >= ? AND f.nps <= ? AND f.day >= ? AND f.day <= ?
GROUP BY 1, 2
-- params: ['region', '%', '/1/4/%', '/1/9/%', 0, 10, datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)]
-- labels: ['region', 'period']
