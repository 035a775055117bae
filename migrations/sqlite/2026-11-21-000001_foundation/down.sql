DROP TABLE audit_log;
DROP TABLE settings;
DROP TABLE emergency_states;
DROP TABLE scenes;
DROP TABLE canvases;
DROP TABLE users;
