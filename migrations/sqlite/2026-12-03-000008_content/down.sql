ALTER TABLE users DROP COLUMN approver;
DROP TABLE uploads;
DROP INDEX asset_versions_sha256;
DROP TABLE asset_versions;
DROP TABLE assets;
