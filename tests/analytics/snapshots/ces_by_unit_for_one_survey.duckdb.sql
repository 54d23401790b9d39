WITH su AS (SELECT u.unit_id AS unit_id FROM units u WHERE (u.path LIKE ? OR u.path LIKE ?))
SELECT su.unit_id AS g0, (year(f.day) * 10 + quarter(f.day)) AS g1, COUNT(*) AS n, SUM(f.ces) AS s1, SUM((f.ces * f.ces)) AS s2 FROM responses f JOIN su ON su.unit_id = f.unit_id
WHERE f.ces >= ? AND f.ces <= ? AND f.survey_id IN (?)
GROUP BY 1, 2
-- params: ['/1/4/%', '/1/9/%', 1, 7, 3]
-- labels: ['unit', 'period']
