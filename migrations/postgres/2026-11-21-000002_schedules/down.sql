DROP TABLE schedule_overrides;
DROP TABLE schedules;
