WITH su AS (SELECT u.unit_id AS unit_id FROM units u WHERE (u.path LIKE ? OR u.path LIKE ?) AND (u.path LIKE ?))
SELECT q.code AS g0, COUNT(*) AS n, SUM(CAST(f.number >= 4 AS INTEGER)) AS s1, SUM(CAST(f.number >= 4 AS INTEGER)) AS s2 FROM answers f JOIN questions q ON q.question_id = f.question_id JOIN su ON su.unit_id = f.unit_id
WHERE f.number >= ? AND f.number <= ? AND q.code IN (?, ?)
GROUP BY 1
-- params: ['/1/4/%', '/1/9/%', '/1/4/%', 1, 5, 'csat', 'q_speed']
-- labels: ['question']
