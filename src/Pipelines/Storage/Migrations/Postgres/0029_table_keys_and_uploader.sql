-- Reference table versions record the key columns declared at upload (a JSON array, checked unique) and who uploaded them.
ALTER TABLE reference_tables ADD COLUMN key_columns TEXT NOT NULL DEFAULT '[]';
ALTER TABLE reference_tables ADD COLUMN created_by TEXT;
