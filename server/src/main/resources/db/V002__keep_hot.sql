-- Sandboxes the thermal manager never pauses or snapshots on its own.
ALTER TABLE sandboxes ADD COLUMN keep_hot INTEGER NOT NULL DEFAULT 0;
