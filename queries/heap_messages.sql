-- Samples of a process after one time up to another (a window between two heap dumps), and the
-- queue messages they name: what the process delivered in the window.
-- Parameters: :host (text), :pid (integer), :from_us, :to_us (UTC µs; after :from_us, up to :to_us).
SELECT COUNT(*) AS samples, COUNT(DISTINCT s.msg_id) AS messages
FROM sample s JOIN process p ON p.id = s.process_id
WHERE p.host = :host AND p.pid = :pid AND s.ts_us > :from_us AND s.ts_us <= :to_us
