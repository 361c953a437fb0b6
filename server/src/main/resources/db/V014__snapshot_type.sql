-- A snapshot's type: memory (memory, processes and disk; resumes where it was) or filesystem (the disk
-- only; resumes as a fresh boot of it). Snapshots taken before are memory snapshots.
ALTER TABLE snapshots ADD COLUMN type TEXT NOT NULL DEFAULT 'memory';
