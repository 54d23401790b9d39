WITH su AS (SELECT u.id AS unit_id, g.id AS level_id FROM org_orgunit u JOIN org_orgunit g ON g.kind = ? AND u.path LIKE (g.path || ?) WHERE (u.path LIKE ? OR u.path LIKE ?))
SELECT su.level_id AS g0, (CAST(EXTRACT(YEAR FROM (f.submitted_at AT TIME ZONE 'UTC')) AS INTEGER) * 100 + CAST(EXTRACT(MONTH FROM (f.submitted_at AT TIME ZONE 'UTC')) AS INTEGER)) AS g1, COUNT(*) AS n, SUM(CAST(f.nps >= 9 AS INTEGER)) - SUM(CAST(f.nps <= 6 AS INTEGER)) AS s1, SUM(CAST(f.nps >= 9 AS INTEGER)) + SUM(CAST(f.nps <= 6 AS INTEGER)) AS s2 FROM responses_response f JOIN su ON su.unit_id = f.unit_id
WHERE f.nps >= ? AND f.nps <= ? AND f.submitted_at >= ? AND f.submitted_at < ?
GROUP BY 1, 2 ORDER BY 1, 2
-- params: ['region', '%', '/1/4/%', '/1/9/%', 0, 10, '2026-01-01T00:00:00+00:00', '2026-07-01T00:00:00+00:00']
-- labels: ['region', 'period']
