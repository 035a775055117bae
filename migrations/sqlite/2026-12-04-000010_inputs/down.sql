DROP TABLE inputs;
