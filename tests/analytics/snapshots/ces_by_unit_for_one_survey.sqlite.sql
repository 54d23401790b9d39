WITH su AS (SELECT u.id AS unit_id FROM org_orgunit u WHERE (u.path LIKE ? OR u.path LIKE ?))
SELECT su.unit_id AS g0, (CAST(substr(f.submitted_at, 1, 4) AS INTEGER) * 10 + ((CAST(substr(f.submitted_at, 6, 2) AS INTEGER) + 2) / 3)) AS g1, COUNT(*) AS n, SUM(f.ces) AS s1, SUM((f.ces * f.ces)) AS s2 FROM responses_response f JOIN su ON su.unit_id = f.unit_id
WHERE f.ces >= ? AND f.ces <= ? AND f.survey_id IN (?)
GROUP BY 1, 2 ORDER BY 1, 2
-- params: ['/1/4/%', '/1/9/%', 1, 7, 3]
-- labels: ['unit', 'period']
