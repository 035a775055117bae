DROP TABLE celebrations;
