WITH su AS (SELECT u.id AS unit_id FROM org_orgunit u WHERE (u.path LIKE ? OR u.path LIKE ?) AND (u.path LIKE ?))
SELECT f.question_code AS g0, COUNT(*) AS n, SUM(CAST(f.number >= 4 AS INTEGER)) AS s1, SUM(CAST(f.number >= 4 AS INTEGER)) AS s2 FROM responses_answer f JOIN responses_response r ON r.id = f.response_id JOIN su ON su.unit_id = r.unit_id
WHERE f.number >= ? AND f.number <= ? AND f.question_code IN (?, ?)
GROUP BY 1 ORDER BY 1
-- params: ['/1/4/%', '/1/9/%', '/1/4/%', 1, 5, 'csat', 'q_speed']
-- labels: ['question']
