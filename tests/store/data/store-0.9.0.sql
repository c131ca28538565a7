-- A cncwear 0.9.0 store (commit 4122148), written by make_store_090.py.
BEGIN TRANSACTION;
CREATE TABLE audit_trail (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	host VARCHAR(255) NOT NULL, 
	os_user VARCHAR(255) NOT NULL, 
	machine VARCHAR(255), 
	action VARCHAR(64) NOT NULL, 
	subject VARCHAR(255) NOT NULL, 
	old_value TEXT, 
	new_value TEXT, 
	comment TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "audit_trail" VALUES(1,'2026-12-03 19:14:29.246702','vm','operator1','m1','alarm.acknowledged','m1-alarm-1',NULL,NULL,'checked the tool');
INSERT INTO "audit_trail" VALUES(2,'2026-12-03 19:14:29.258985','vm','engineer',NULL,'settings.changed','alarm_threshold','0.5','0.6','');
INSERT INTO "audit_trail" VALUES(3,'2026-12-03 19:14:29.270078','vm','engineer',NULL,'model.promoted','cncwear-wear','1','2','');
CREATE TABLE experiments (
	experiment INTEGER NOT NULL, 
	material VARCHAR(64), 
	feedrate FLOAT, 
	clamp_pressure FLOAT, 
	tool_condition VARCHAR(16), 
	machining_finalized VARCHAR(8), 
	passed_visual_inspection VARCHAR(8), 
	metadata_source VARCHAR(1024), 
	PRIMARY KEY (experiment)
);
INSERT INTO "experiments" VALUES(1,'wax',6.0,4.0,'unworn','yes','yes','/tmp/cncwear-0.9.0-ztm_e29_/a/train.csv');
INSERT INTO "experiments" VALUES(6,'wax',6.0,4.0,'worn','yes','no','/tmp/cncwear-0.9.0-ztm_e29_/b/train.csv');
CREATE TABLE feature_sets (
	id INTEGER NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	version INTEGER NOT NULL, 
	fingerprint VARCHAR(32) NOT NULL, 
	definition JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name, version)
);
INSERT INTO "feature_sets" VALUES(1,'seed_slides',1,'a413bde7be1cbe1e','{"name": "seed_slides", "version": 1, "description": "As in the talk: all 47 signals, the Machining_Process phase code, and train.csv''s feedrate and clamp_pressure. Per-experiment constants: valid for the seed protocol only.", "columns": ["X1_ActualPosition", "X1_ActualVelocity", "X1_ActualAcceleration", "X1_CommandPosition", "X1_CommandVelocity", "X1_CommandAcceleration", "X1_CurrentFeedback", "X1_DCBusVoltage", "X1_OutputCurrent", "X1_OutputVoltage", "X1_OutputPower", "Y1_ActualPosition", "Y1_ActualVelocity", "Y1_ActualAcceleration", "Y1_CommandPosition", "Y1_CommandVelocity", "Y1_CommandAcceleration", "Y1_CurrentFeedback", "Y1_DCBusVoltage", "Y1_OutputCurrent", "Y1_OutputVoltage", "Y1_OutputPower", "Z1_ActualPosition", "Z1_ActualVelocity", "Z1_ActualAcceleration", "Z1_CommandPosition", "Z1_CommandVelocity", "Z1_CommandAcceleration", "Z1_CurrentFeedback", "Z1_DCBusVoltage", "Z1_OutputCurrent", "Z1_OutputVoltage", "S1_ActualPosition", "S1_ActualVelocity", "S1_ActualAcceleration", "S1_CommandPosition", "S1_CommandVelocity", "S1_CommandAcceleration", "S1_CurrentFeedback", "S1_DCBusVoltage", "S1_OutputCurrent", "S1_OutputVoltage", "S1_OutputPower", "S1_SystemInertia", "M1_CURRENT_PROGRAM_NUMBER", "M1_sequence_number", "M1_CURRENT_FEEDRATE", "phase", "feedrate", "clamp_pressure"]}','2026-12-03 19:14:28.486072');
INSERT INTO "feature_sets" VALUES(2,'signals',1,'e18058d056a69a90','{"name": "signals", "version": 1, "description": "All 47 per-sample signals and the Machining_Process phase code; no train.csv constants.", "columns": ["X1_ActualPosition", "X1_ActualVelocity", "X1_ActualAcceleration", "X1_CommandPosition", "X1_CommandVelocity", "X1_CommandAcceleration", "X1_CurrentFeedback", "X1_DCBusVoltage", "X1_OutputCurrent", "X1_OutputVoltage", "X1_OutputPower", "Y1_ActualPosition", "Y1_ActualVelocity", "Y1_ActualAcceleration", "Y1_CommandPosition", "Y1_CommandVelocity", "Y1_CommandAcceleration", "Y1_CurrentFeedback", "Y1_DCBusVoltage", "Y1_OutputCurrent", "Y1_OutputVoltage", "Y1_OutputPower", "Z1_ActualPosition", "Z1_ActualVelocity", "Z1_ActualAcceleration", "Z1_CommandPosition", "Z1_CommandVelocity", "Z1_CommandAcceleration", "Z1_CurrentFeedback", "Z1_DCBusVoltage", "Z1_OutputCurrent", "Z1_OutputVoltage", "S1_ActualPosition", "S1_ActualVelocity", "S1_ActualAcceleration", "S1_CommandPosition", "S1_CommandVelocity", "S1_CommandAcceleration", "S1_CurrentFeedback", "S1_DCBusVoltage", "S1_OutputCurrent", "S1_OutputVoltage", "S1_OutputPower", "S1_SystemInertia", "M1_CURRENT_PROGRAM_NUMBER", "M1_sequence_number", "M1_CURRENT_FEEDRATE", "phase"]}','2026-12-03 19:14:28.491752');
INSERT INTO "feature_sets" VALUES(3,'process',1,'2f1accf9b4765e7f','{"name": "process", "version": 1, "description": "Signal-derived and setup-free: command-actual tracking errors, axis and spindle loads, loads per commanded path speed, and the phase; no absolute positions, no program or sequence numbers, no train.csv constants. Trains without the samples the dataset calls unreliable (M1_CURRENT_FEEDRATE == 50, X1_ActualPosition == 198).", "columns": ["X1_position_error", "X1_velocity_error", "X1_acceleration_error", "Y1_position_error", "Y1_velocity_error", "Y1_acceleration_error", "Z1_position_error", "Z1_velocity_error", "Z1_acceleration_error", "S1_position_error", "S1_velocity_error", "S1_acceleration_error", "path_speed_command", "S1_CurrentFeedback_per_speed", "S1_OutputPower_per_speed", "X1_CurrentFeedback_per_speed", "Y1_CurrentFeedback_per_speed", "X1_OutputPower_per_speed", "Y1_OutputPower_per_speed", "X1_CurrentFeedback", "X1_DCBusVoltage", "X1_OutputCurrent", "X1_OutputVoltage", "X1_OutputPower", "Y1_CurrentFeedback", "Y1_DCBusVoltage", "Y1_OutputCurrent", "Y1_OutputVoltage", "Y1_OutputPower", "Z1_CurrentFeedback", "Z1_DCBusVoltage", "Z1_OutputCurrent", "Z1_OutputVoltage", "S1_ActualVelocity", "S1_CurrentFeedback", "S1_DCBusVoltage", "S1_OutputCurrent", "S1_OutputVoltage", "S1_OutputPower", "S1_SystemInertia", "phase"], "derived": {"X1_position_error": "X1_ActualPosition - X1_CommandPosition", "X1_velocity_error": "X1_ActualVelocity - X1_CommandVelocity", "X1_acceleration_error": "X1_ActualAcceleration - X1_CommandAcceleration", "Y1_position_error": "Y1_ActualPosition - Y1_CommandPosition", "Y1_velocity_error": "Y1_ActualVelocity - Y1_CommandVelocity", "Y1_acceleration_error": "Y1_ActualAcceleration - Y1_CommandAcceleration", "Z1_position_error": "Z1_ActualPosition - Z1_CommandPosition", "Z1_velocity_error": "Z1_ActualVelocity - Z1_CommandVelocity", "Z1_acceleration_error": "Z1_ActualAcceleration - Z1_CommandAcceleration", "S1_position_error": "S1_ActualPosition - S1_CommandPosition", "S1_velocity_error": "S1_ActualVelocity - S1_CommandVelocity", "S1_acceleration_error": "S1_ActualAcceleration - S1_CommandAcceleration", "path_speed_command": "hypot(X1_CommandVelocity, Y1_CommandVelocity): the commanded feed in the XY plane", "S1_CurrentFeedback_per_speed": "|S1_CurrentFeedback| / (1 + commanded path speed)", "S1_OutputPower_per_speed": "|S1_OutputPower| / (1 + commanded path speed)", "X1_CurrentFeedback_per_speed": "|X1_CurrentFeedback| / (1 + commanded path speed)", "Y1_CurrentFeedback_per_speed": "|Y1_CurrentFeedback| / (1 + commanded path speed)", "X1_OutputPower_per_speed": "|X1_OutputPower| / (1 + commanded path speed)", "Y1_OutputPower_per_speed": "|Y1_OutputPower| / (1 + commanded path speed)"}, "exclude_flags": ["m1_feedrate_50", "x1_position_198"]}','2026-12-03 19:14:28.505869');
CREATE TABLE imports (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	summary JSON NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "imports" VALUES(1,'2026-12-03 19:14:28.951045','{"imported": [{"experiment": 1, "file": "experiment_01.csv", "rows": 25, "version": 1}, {"experiment": 6, "file": "experiment_06.csv", "rows": 25, "version": 1}], "unchanged": []}');
INSERT INTO "imports" VALUES(2,'2026-12-03 19:14:29.191545','{"imported": [{"experiment": 6, "file": "experiment_06.csv", "rows": 24, "version": 2}], "unchanged": []}');
CREATE TABLE pipeline_firings (
	id INTEGER NOT NULL, 
	fired_at DATETIME NOT NULL, 
	"trigger" VARCHAR(32) NOT NULL, 
	reason TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	finished_at DATETIME, 
	host VARCHAR(255) NOT NULL, 
	user VARCHAR(255) NOT NULL, 
	detail JSON NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "pipeline_firings" VALUES(1,'2026-12-03 19:14:29.479636','manual','started from the window','kept','2026-12-03 19:14:29.494555','vm','root','{"gate": {"passed": false, "reason": "challenger not better"}}');
INSERT INTO "pipeline_firings" VALUES(2,'2026-12-03 19:14:29.512774','schedule','weekly','skipped','2026-12-03 19:14:29.512774','vm','root','{}');
CREATE TABLE pipeline_seen_files (
	sha256 VARCHAR(64) NOT NULL, 
	path VARCHAR(1024) NOT NULL, 
	seen_at DATETIME NOT NULL, 
	PRIMARY KEY (sha256)
);
INSERT INTO "pipeline_seen_files" VALUES('0000000000000000000000000000000000000000000000000000000000000000','/data/incoming/experiment_19.csv','2026-12-03 19:14:29.527025');
CREATE TABLE prediction_feedback (
	id INTEGER NOT NULL, 
	recorded_at DATETIME NOT NULL, 
	machine VARCHAR(255) NOT NULL, 
	model_version VARCHAR(64) NOT NULL, 
	predicted_worn INTEGER NOT NULL, 
	actual_worn INTEGER NOT NULL, 
	source VARCHAR(64) NOT NULL, 
	user VARCHAR(255) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "prediction_feedback" VALUES(1,'2026-12-03 19:14:29.540076','m1','2',1,0,'false alarm','root');
CREATE TABLE prediction_log (
	id INTEGER NOT NULL, 
	logged_at DATETIME NOT NULL, 
	machine VARCHAR(255) NOT NULL, 
	sample_time DATETIME, 
	model_version VARCHAR(64), 
	probability FLOAT, 
	wear_state VARCHAR(16) NOT NULL, 
	quality_flags INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "prediction_log" VALUES(1,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.000000','2',0.0,'ok',0);
INSERT INTO "prediction_log" VALUES(2,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.100000','2',0.05,'ok',1);
INSERT INTO "prediction_log" VALUES(3,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.200000','2',0.1,'ok',2);
INSERT INTO "prediction_log" VALUES(4,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.300000','2',0.15,'ok',0);
INSERT INTO "prediction_log" VALUES(5,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.400000','2',0.2,'ok',1);
INSERT INTO "prediction_log" VALUES(6,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.500000','2',0.25,'ok',2);
INSERT INTO "prediction_log" VALUES(7,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.600000','2',0.3,'ok',0);
INSERT INTO "prediction_log" VALUES(8,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.700000','2',0.35,'ok',1);
INSERT INTO "prediction_log" VALUES(9,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.800000','2',0.4,'worn',2);
INSERT INTO "prediction_log" VALUES(10,'2026-12-03 19:14:29.298563','m1','2026-03-02 08:00:00.900000','2',0.45,'worn',0);
INSERT INTO "prediction_log" VALUES(11,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.000000','2',0.0,'ok',0);
INSERT INTO "prediction_log" VALUES(12,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.100000','2',0.05,'ok',1);
INSERT INTO "prediction_log" VALUES(13,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.200000','2',0.1,'ok',2);
INSERT INTO "prediction_log" VALUES(14,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.300000','2',0.15,'ok',0);
INSERT INTO "prediction_log" VALUES(15,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.400000','2',0.2,'ok',1);
INSERT INTO "prediction_log" VALUES(16,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.500000','2',0.25,'ok',2);
INSERT INTO "prediction_log" VALUES(17,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.600000','2',0.3,'ok',0);
INSERT INTO "prediction_log" VALUES(18,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.700000','2',0.35,'ok',1);
INSERT INTO "prediction_log" VALUES(19,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.800000','2',0.4,'worn',2);
INSERT INTO "prediction_log" VALUES(20,'2026-12-03 19:14:29.298563','m2','2026-03-02 08:00:00.900000','2',0.45,'worn',0);
INSERT INTO "prediction_log" VALUES(21,'2026-12-03 19:14:29.306836','m3',NULL,NULL,NULL,'unknown',4);
CREATE TABLE samples (
	file_id INTEGER NOT NULL, 
	"row" INTEGER NOT NULL, 
	"X1_ActualPosition" FLOAT, 
	"X1_ActualVelocity" FLOAT, 
	"X1_ActualAcceleration" FLOAT, 
	"X1_CommandPosition" FLOAT, 
	"X1_CommandVelocity" FLOAT, 
	"X1_CommandAcceleration" FLOAT, 
	"X1_CurrentFeedback" FLOAT, 
	"X1_DCBusVoltage" FLOAT, 
	"X1_OutputCurrent" FLOAT, 
	"X1_OutputVoltage" FLOAT, 
	"X1_OutputPower" FLOAT, 
	"Y1_ActualPosition" FLOAT, 
	"Y1_ActualVelocity" FLOAT, 
	"Y1_ActualAcceleration" FLOAT, 
	"Y1_CommandPosition" FLOAT, 
	"Y1_CommandVelocity" FLOAT, 
	"Y1_CommandAcceleration" FLOAT, 
	"Y1_CurrentFeedback" FLOAT, 
	"Y1_DCBusVoltage" FLOAT, 
	"Y1_OutputCurrent" FLOAT, 
	"Y1_OutputVoltage" FLOAT, 
	"Y1_OutputPower" FLOAT, 
	"Z1_ActualPosition" FLOAT, 
	"Z1_ActualVelocity" FLOAT, 
	"Z1_ActualAcceleration" FLOAT, 
	"Z1_CommandPosition" FLOAT, 
	"Z1_CommandVelocity" FLOAT, 
	"Z1_CommandAcceleration" FLOAT, 
	"Z1_CurrentFeedback" FLOAT, 
	"Z1_DCBusVoltage" FLOAT, 
	"Z1_OutputCurrent" FLOAT, 
	"Z1_OutputVoltage" FLOAT, 
	"S1_ActualPosition" FLOAT, 
	"S1_ActualVelocity" FLOAT, 
	"S1_ActualAcceleration" FLOAT, 
	"S1_CommandPosition" FLOAT, 
	"S1_CommandVelocity" FLOAT, 
	"S1_CommandAcceleration" FLOAT, 
	"S1_CurrentFeedback" FLOAT, 
	"S1_DCBusVoltage" FLOAT, 
	"S1_OutputCurrent" FLOAT, 
	"S1_OutputVoltage" FLOAT, 
	"S1_OutputPower" FLOAT, 
	"S1_SystemInertia" FLOAT, 
	"M1_CURRENT_PROGRAM_NUMBER" FLOAT, 
	"M1_sequence_number" FLOAT, 
	"M1_CURRENT_FEEDRATE" FLOAT, 
	"Machining_Process" VARCHAR(64), 
	phase INTEGER NOT NULL, 
	quality_flags INTEGER NOT NULL, 
	line INTEGER NOT NULL, 
	PRIMARY KEY (file_id, "row"), 
	FOREIGN KEY(file_id) REFERENCES source_files (id)
);
INSERT INTO "samples" VALUES(1,0,198.0,0.0,0.0,198.0,0.0,0.0,0.18,0.0207,329.0,2.77,-1.42e-06,158.0,-0.025,-6.25,158.0,0.0,0.0,0.539,0.0167,328.0,1.84,6.43e-07,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-361.0,0.001,0.25,-361.0,0.0,0.0,0.524,2.74e-19,329.0,0.0,6.96e-07,12.0,1.0,0.0,50.0,'Starting',0,7,2);
INSERT INTO "samples" VALUES(1,1,198.0,-10.8,-350.0,198.0,-13.6,-358.0,-10.9,0.186,328.0,23.3,0.00448,158.0,-19.8,-750.0,157.0,-24.6,-647.0,-14.5,0.281,325.0,37.8,0.0126,119.0,-20.3,-712.0,118.0,-25.6,-674.0,0.0,0.0,0.0,0.0,-361.0,0.0,0.25,-361.0,0.0,0.0,-0.288,2.74e-19,328.0,0.0,-5.27e-07,12.0,1.0,4.0,50.0,'Prep',1,7,3);
INSERT INTO "samples" VALUES(1,2,196.0,-17.8,-6.25,196.0,-17.9,-9.54e-05,-8.59,0.14,328.0,30.6,0.00533,154.0,-32.5,0.0,154.0,-32.3,-9.54e-05,-7.79,0.139,327.0,49.4,0.00943,115.0,-33.7,37.5,115.0,-33.7,-9.54e-05,0.0,0.0,0.0,0.0,-361.0,0.0,-0.438,-361.0,0.0,0.0,0.524,2.74e-19,328.0,0.0,9.1e-07,12.0,1.0,7.0,50.0,'Prep',1,5,4);
INSERT INTO "samples" VALUES(1,3,194.0,-18.0,0.0,194.0,-17.9,-9.54e-05,-6.11,0.13,327.0,30.3,0.00489,151.0,-32.6,-62.5,151.0,-32.3,-9.54e-05,-8.13,0.156,325.0,47.6,0.0105,112.0,-33.7,-6.25,112.0,-33.7,0.0,0.0,0.0,0.0,0.0,-361.0,-0.001,-0.25,-361.0,0.0,0.0,-0.18,2.74e-19,328.0,0.0,1.07e-06,12.0,1.0,7.0,50.0,'Prep',1,5,5);
INSERT INTO "samples" VALUES(1,4,193.0,-17.9,-18.8,192.0,-17.9,9.54e-05,-5.7,0.114,328.0,30.5,0.00425,148.0,-32.0,138.0,148.0,-32.3,9.54e-05,-13.8,0.202,326.0,47.1,0.0135,109.0,-33.6,18.8,108.0,-33.7,0.0,0.0,0.0,0.0,0.0,-361.0,0.0,-0.188,-361.0,0.0,0.0,0.226,2.74e-19,328.0,0.0,1.96e-06,12.0,1.0,7.0,50.0,'Prep',1,5,6);
INSERT INTO "samples" VALUES(1,5,191.0,-17.6,81.2,191.0,-17.9,0.000191,-5.85,0.128,328.0,30.9,0.00474,145.0,-32.4,-12.5,144.0,-32.3,0.0,-9.78,0.166,326.0,49.6,0.0113,105.0,-33.7,-6.25,105.0,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,0.0,0.0,-361.0,0.0,0.0,0.821,2.74e-19,328.0,0.0,0.0,12.0,1.0,7.0,50.0,'Prep',1,5,7);
INSERT INTO "samples" VALUES(1,6,189.0,-17.9,-6.25,189.0,-17.9,9.54e-05,-5.84,0.0955,328.0,29.3,0.00345,141.0,-32.3,81.2,141.0,-32.3,-9.54e-05,-8.56,0.179,326.0,50.0,0.0124,102.0,-33.5,62.5,102.0,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,0.00075,-0.0625,-361.0,0.0,0.0,0.523,2.74e-19,328.0,0.0,3.79e-06,12.0,1.0,2.0,50.0,'Prep',1,5,8);
INSERT INTO "samples" VALUES(1,7,187.0,-17.8,50.0,187.0,-17.9,-0.000191,-7.31,0.117,327.0,29.1,0.00441,138.0,-32.3,50.0,138.0,-32.3,-9.54e-05,-8.0,0.185,325.0,50.8,0.0128,98.6,-33.7,18.8,98.3,-33.7,0.0,0.0,0.0,0.0,0.0,-361.0,0.0,0.0,-361.0,0.0,0.0,-0.288,2.74e-19,328.0,0.0,0.0,12.0,1.0,7.0,50.0,'Prep',1,5,9);
INSERT INTO "samples" VALUES(1,8,185.0,-17.9,25.0,185.0,-17.9,0.0,-7.98,0.113,328.0,29.4,0.00417,135.0,-32.3,37.5,135.0,-32.3,0.0,-9.96,0.154,327.0,49.7,0.0102,95.1,-33.6,18.8,94.8,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,-0.00075,-0.188,-361.0,0.0,0.0,-0.0997,2.74e-19,328.0,0.0,-8.36e-08,12.0,1.0,7.0,50.0,'Prep',1,5,10);
INSERT INTO "samples" VALUES(1,9,184.0,-17.9,12.5,183.0,-17.9,-9.54e-05,-7.44,0.138,328.0,29.8,0.00501,132.0,-32.7,-31.3,132.0,-32.3,0.0,-6.29,0.119,325.0,48.1,0.00784,91.8,-33.7,-37.5,91.6,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,-0.001,0.0,-361.0,0.0,0.0,0.118,2.74e-19,328.0,0.0,0.0,12.0,1.0,7.0,50.0,'Prep',1,5,11);
INSERT INTO "samples" VALUES(1,10,182.0,-18.1,-56.3,182.0,-17.9,-9.54e-05,-4.52,0.114,327.0,31.3,0.0043,129.0,-32.1,113.0,128.0,-32.3,0.0,-8.62,0.186,325.0,48.6,0.0126,88.5,-33.7,-25.0,88.2,-33.7,0.0,0.0,0.0,0.0,0.0,-361.0,0.0,0.25,-361.0,0.0,0.0,-0.288,2.74e-19,328.0,0.0,-6.99e-07,12.0,1.0,7.0,50.0,'Prep',1,5,12);
INSERT INTO "samples" VALUES(1,11,180.0,-17.7,62.5,180.0,-17.9,9.54e-05,-5.53,0.13,328.0,31.6,0.00485,125.0,-32.3,12.5,125.0,-32.3,9.54e-05,-10.9,0.181,326.0,50.6,0.0124,85.0,-33.7,0.0,84.7,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,0.001,0.0625,-361.0,0.0,0.0,0.118,2.74e-19,328.0,0.0,-1.02e-06,12.0,1.0,7.0,50.0,'Prep',1,5,13);
INSERT INTO "samples" VALUES(1,12,178.0,-17.9,-37.5,178.0,-17.9,9.54e-05,-7.55,0.122,327.0,30.4,0.00457,122.0,-32.4,-6.25,122.0,-32.3,-9.54e-05,-10.5,0.174,325.0,50.4,0.012,81.7,-33.6,6.25,81.5,-33.7,-9.54e-05,0.0,0.0,0.0,0.0,-361.0,-0.00175,-0.687,-361.0,0.0,0.0,2.34,2.74e-19,328.0,0.0,0.0,12.0,1.0,7.0,50.0,'Prep',1,5,14);
INSERT INTO "samples" VALUES(1,13,176.0,-17.8,106.0,176.0,-17.9,9.54e-05,-8.41,0.133,327.0,28.5,0.005,119.0,-32.3,50.0,119.0,-32.3,-9.54e-05,-8.39,0.177,325.0,49.4,0.012,78.4,-33.7,-12.5,78.1,-33.7,0.0,0.0,0.0,0.0,0.0,-361.0,0.004,1.19,-361.0,0.0,0.0,-0.288,2.74e-19,328.0,0.0,7.61e-06,12.0,1.0,7.0,50.0,'Prep',1,5,15);
INSERT INTO "samples" VALUES(1,14,175.0,-17.8,43.8,174.0,-17.9,-9.54e-05,-8.81,0.131,328.0,30.3,0.00478,116.0,-32.2,131.0,115.0,-32.3,-9.54e-05,-11.3,0.165,327.0,51.2,0.011,74.9,-33.6,50.0,74.6,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,0.00075,0.375,-361.0,0.0,0.0,-0.18,2.74e-19,328.0,0.0,0.0,12.0,1.0,7.0,50.0,'Prep',1,5,16);
INSERT INTO "samples" VALUES(1,15,173.0,-18.0,-25.0,173.0,-17.9,0.000191,-5.78,0.127,327.0,29.9,0.00475,112.0,-32.3,37.5,112.0,-32.3,-0.000191,-10.8,0.155,325.0,49.3,0.0104,71.6,-33.5,-6.25,71.3,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,0.0,-0.188,-361.0,0.0,0.0,0.821,2.74e-19,328.0,0.0,2.91e-06,12.0,1.0,7.0,50.0,'Prep',1,5,17);
INSERT INTO "samples" VALUES(1,16,171.0,-17.8,18.8,171.0,-17.9,9.54e-05,-7.39,0.127,327.0,30.2,0.00468,109.0,-32.2,43.8,109.0,-32.3,-9.54e-05,-12.8,0.172,325.0,43.2,0.0114,68.3,-33.5,31.3,68.0,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,-0.001,-0.25,-361.0,0.0,0.0,0.415,2.74e-19,328.0,0.0,-1.06e-06,12.0,1.0,7.0,50.0,'Prep',1,5,18);
INSERT INTO "samples" VALUES(1,17,169.0,-17.9,6.25,169.0,-17.9,-9.54e-05,-6.08,0.125,328.0,31.0,0.00472,106.0,-32.3,12.5,106.0,-32.3,0.0,-12.6,0.196,326.0,47.3,0.0134,64.7,-33.8,-50.0,64.5,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,0.0,0.25,-361.0,0.0,0.0,-0.694,2.74e-19,328.0,0.0,0.0,12.0,1.0,2.0,50.0,'Prep',1,5,19);
INSERT INTO "samples" VALUES(1,18,167.0,-17.8,6.25,167.0,-17.9,-9.54e-05,-6.89,0.131,327.0,31.8,0.00491,103.0,-32.3,37.5,103.0,-32.3,-9.54e-05,-11.4,0.185,325.0,50.2,0.0126,61.5,-33.7,-25.0,61.2,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,-0.00325,-1.56,-361.0,0.0,0.0,0.00893,2.74e-19,328.0,0.0,0.0,12.0,1.0,7.0,50.0,'Prep',1,5,20);
INSERT INTO "samples" VALUES(1,19,166.0,-17.8,50.0,166.0,-17.9,9.54e-05,-6.42,0.11,328.0,29.8,0.0041,99.6,-32.4,0.0,99.3,-32.3,-0.000191,-11.0,0.161,326.0,46.6,0.0109,58.1,-33.7,6.25,57.9,-33.7,-9.54e-05,0.0,0.0,0.0,0.0,-361.0,0.00025,0.812,-361.0,0.0,0.0,0.00893,2.74e-19,328.0,0.0,-2.82e-07,12.0,1.0,7.0,50.0,'Prep',1,5,21);
INSERT INTO "samples" VALUES(1,20,164.0,-17.9,-43.8,164.0,-17.9,0.000191,-7.26,0.112,328.0,29.8,0.00416,96.2,-32.1,87.5,95.9,-32.3,0.0,-12.2,0.203,326.0,49.4,0.0138,54.6,-33.6,43.8,54.4,-33.7,0.000191,0.0,0.0,0.0,0.0,-361.0,0.0,0.25,-361.0,0.0,0.0,-0.288,2.74e-19,328.0,0.0,0.0,12.0,1.0,7.0,50.0,'Prep',1,5,22);
INSERT INTO "samples" VALUES(1,21,162.0,-18.0,18.8,162.0,-17.9,-9.54e-05,-4.17,0.0986,328.0,28.4,0.00361,93.1,-32.1,119.0,92.8,-32.3,-9.54e-05,-12.3,0.176,325.0,48.6,0.0117,51.4,-33.7,6.25,51.1,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,-0.00125,-1.06,-361.0,0.0,0.0,0.118,2.74e-19,328.0,0.0,0.0,12.0,1.0,7.0,50.0,'Prep',1,5,23);
INSERT INTO "samples" VALUES(1,22,160.0,-18.1,-93.7,160.0,-17.9,-0.000191,-5.34,0.107,328.0,30.5,0.00394,89.9,-32.3,-18.8,89.6,-32.3,-9.54e-05,-10.5,0.181,326.0,50.0,0.0123,48.0,-33.7,6.25,47.8,-33.7,0.0,0.0,0.0,0.0,0.0,-361.0,0.003,0.75,-361.0,0.0,0.0,-0.0997,2.74e-19,328.0,0.0,8.51e-07,12.0,1.0,7.0,50.0,'Prep',1,5,24);
INSERT INTO "samples" VALUES(1,23,158.0,-18.0,-37.5,158.0,-17.9,0.0,-5.22,0.111,328.0,30.1,0.00409,86.5,-32.3,56.3,86.2,-32.3,9.54e-05,-10.2,0.19,326.0,47.6,0.013,44.5,-33.7,-12.5,44.3,-33.7,-9.54e-05,0.0,0.0,0.0,0.0,-361.0,-0.003,-1.19,-361.0,0.0,0.0,0.117,2.74e-19,328.0,0.0,-2.29e-07,12.0,1.0,7.0,50.0,'Prep',1,5,25);
INSERT INTO "samples" VALUES(1,24,157.0,-17.9,-12.5,157.0,-17.9,-9.54e-05,-6.7,0.132,328.0,30.7,0.00494,83.4,-32.2,18.8,83.1,-32.3,-9.54e-05,-14.6,0.202,326.0,43.8,0.0139,41.3,-33.8,6.25,41.0,-33.7,9.54e-05,0.0,0.0,0.0,0.0,-361.0,0.001,0.5,-361.0,0.0,0.0,0.524,2.74e-19,328.0,0.0,0.0,12.0,1.0,7.0,50.0,'Prep',1,5,26);
INSERT INTO "samples" VALUES(2,0,198.0,0.0,6.25,198.0,0.0,0.0,-1.1,0.0191,328.0,1.67,0.0,158.0,-0.05,-31.3,158.0,0.0,0.0,-1.05,0.0231,327.0,2.45,2.78e-08,119.0,-0.025,-6.25,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.0,-0.5,-978.0,0.0,0.0,-0.415,2.79e-19,328.0,0.0,-6.8e-06,12.0,1.0,2.0,50.0,'Prep',1,7,2);
INSERT INTO "samples" VALUES(2,1,198.0,0.025,18.8,198.0,0.0,0.0,0.499,0.0211,328.0,1.54,0.0,158.0,-0.025,-12.5,158.0,0.0,0.0,0.0623,0.0217,327.0,1.16,4.48e-07,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,-0.001,-0.75,-978.0,0.0,0.0,0.883,2.79e-19,328.0,0.0,0.0,12.0,1.0,0.0,50.0,'Prep',1,7,3);
INSERT INTO "samples" VALUES(2,2,198.0,0.0,12.5,198.0,0.0,0.0,1.14,0.017,328.0,2.32,6.7e-07,158.0,-0.025,-18.8,158.0,0.0,0.0,0.374,0.018,327.0,0.764,4.94e-07,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.00325,1.31,-978.0,0.0,0.0,-0.415,2.79e-19,328.0,0.0,-3.69e-06,12.0,1.0,0.0,50.0,'Prep',1,7,4);
INSERT INTO "samples" VALUES(2,3,198.0,0.0,0.0,198.0,0.0,0.0,-0.3,0.0152,328.0,0.812,-1.16e-07,158.0,-0.05,-25.0,158.0,0.0,0.0,-0.413,0.0232,327.0,2.62,1.86e-06,119.0,-0.025,-6.25,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.0,-0.25,-978.0,0.0,0.0,-0.152,2.79e-19,328.0,0.0,-6.98e-06,12.0,1.0,0.0,50.0,'Prep',1,7,5);
INSERT INTO "samples" VALUES(2,4,198.0,0.0,0.0,198.0,0.0,0.0,-0.459,0.0237,328.0,1.12,-9.39e-07,158.0,-0.05,-25.0,158.0,0.0,0.0,-0.57,0.0179,326.0,2.33,1.42e-06,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.0,-0.25,-978.0,0.0,0.0,-0.679,2.79e-19,327.0,0.0,-2.29e-06,12.0,1.0,0.0,50.0,'Prep',1,7,6);
INSERT INTO "samples" VALUES(2,5,198.0,0.0,6.25,198.0,0.0,0.0,4.65,0.0265,328.0,7.47,0.0,158.0,-0.025,-18.8,158.0,0.0,0.0,-0.264,0.0181,327.0,1.29,0.0,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.001,0.25,-978.0,0.0,0.0,-0.422,2.79e-19,327.0,0.0,-4.57e-06,12.0,1.0,0.0,50.0,'Prep',1,7,7);
INSERT INTO "samples" VALUES(2,6,198.0,0.0,0.0,198.0,0.0,0.0,-1.58,0.0237,328.0,2.43,1.78e-06,158.0,-0.05,-31.3,158.0,0.0,0.0,0.367,0.019,327.0,0.939,0.0,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.001,0.5,-978.0,0.0,0.0,-0.679,2.79e-19,328.0,0.0,5.66e-06,12.0,1.0,0.0,50.0,'Prep',1,7,8);
INSERT INTO "samples" VALUES(2,7,198.0,-0.025,-6.25,198.0,0.0,0.0,-1.1,0.0204,328.0,1.85,0.0,158.0,-0.05,-18.8,158.0,0.0,0.0,-0.733,0.016,327.0,2.79,0.0,119.0,-0.025,-12.5,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,-0.001,-0.25,-978.0,0.0,0.0,-0.679,2.79e-19,328.0,0.0,6.05e-06,12.0,1.0,0.0,50.0,'Prep',1,7,9);
INSERT INTO "samples" VALUES(2,8,198.0,0.0,0.0,198.0,0.0,0.0,-0.3,0.0198,328.0,1.37,2.82e-06,158.0,-0.025,-18.8,158.0,0.0,0.0,-1.69,0.0167,327.0,4.05,0.0,119.0,0.0,6.25,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,-0.002,-0.5,-978.0,0.0,0.0,-0.936,2.79e-19,328.0,0.0,0.0,12.0,1.0,0.0,50.0,'Prep',1,7,10);
INSERT INTO "samples" VALUES(2,9,198.0,0.0,0.0,198.0,0.0,0.0,0.0203,0.0193,328.0,1.42,1.96e-06,158.0,-0.025,-18.8,158.0,0.0,0.0,-1.37,0.023,326.0,3.06,1.36e-06,119.0,0.0,6.25,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,-0.001,-0.25,-978.0,0.0,0.0,0.0985,2.79e-19,327.0,0.0,1.61e-06,12.0,1.0,0.0,50.0,'Prep',1,7,11);
INSERT INTO "samples" VALUES(2,10,198.0,0.0,6.25,198.0,0.0,0.0,-1.26,0.0175,328.0,2.49,-1.27e-06,158.0,0.0,-12.5,158.0,0.0,0.0,-1.05,0.0184,327.0,3.0,0.0,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.0,0.0,-978.0,0.0,0.0,0.105,2.79e-19,328.0,0.0,0.0,12.0,1.0,0.0,50.0,'Prep',1,7,12);
INSERT INTO "samples" VALUES(2,11,159.0,0.15,75.0,159.0,0.0,0.0,0.337,0.0581,325.0,5.08,3.43e-05,85.0,5.9,43.8,85.0,6.0,0.0,6.08,0.112,323.0,13.9,0.00143,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1250.0,53.4,23.3,1250.0,53.3,0.0,16.0,0.95,316.0,117.0,0.182,12.0,1.0,2.0,6.0,'Prep',1,4,13);
INSERT INTO "samples" VALUES(2,12,159.0,0.125,62.5,159.0,-0.0249,-5.86,2.92,0.0568,325.0,1.11,0.0,85.5,-0.75,-631.0,85.6,5.5,875.0,-1.12,0.16,323.0,1.94,0.000273,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1260.0,53.4,15.4,1260.0,53.3,0.0,18.9,0.711,317.0,116.0,0.136,12.0,1.0,63.0,6.0,'Prep',1,4,14);
INSERT INTO "samples" VALUES(2,13,159.0,-0.675,62.5,159.0,-0.893,-8.98,-4.68,0.0585,325.0,6.99,7.1e-05,86.1,5.8,12.5,86.1,5.93,-1.32,8.47,0.145,324.0,15.9,0.00176,28.7,-0.025,-12.5,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1260.0,53.4,19.6,1260.0,53.3,-9.54e-07,20.1,0.79,321.0,119.0,0.151,12.0,1.0,63.0,6.0,'Prep',1,4,15);
INSERT INTO "samples" VALUES(2,14,159.0,-1.52,50.0,159.0,-1.78,-8.67,-4.09,0.0827,325.0,10.2,0.000234,86.7,5.47,-62.5,86.7,5.73,-2.66,6.28,0.11,324.0,15.8,0.00122,28.7,-0.025,-12.5,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1270.0,53.2,-15.9,1270.0,53.3,0.0,27.4,1.07,320.0,118.0,0.206,12.0,1.0,63.0,6.0,'Prep',1,4,16);
INSERT INTO "samples" VALUES(2,15,159.0,-2.38,37.5,159.0,-2.62,-8.17,-4.47,0.0771,325.0,11.1,0.000376,87.2,5.32,-75.0,87.3,5.4,-3.94,3.65,0.0613,324.0,13.0,0.000638,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1270.0,53.4,27.5,1280.0,53.3,0.0,13.4,0.916,319.0,115.0,0.173,12.0,1.0,63.0,6.0,'Prep',1,4,17);
INSERT INTO "samples" VALUES(2,16,159.0,-3.35,-12.5,159.0,-3.4,-7.49,-4.67,0.0663,325.0,8.9,0.000417,87.8,4.85,-68.7,87.8,4.94,-5.12,7.84,0.104,323.0,9.81,0.000942,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1280.0,53.3,-26.1,1280.0,53.3,0.0,22.8,0.857,321.0,120.0,0.164,12.0,1.0,63.0,6.0,'Prep',1,4,18);
INSERT INTO "samples" VALUES(2,17,158.0,-4.13,-31.3,158.0,-4.11,-6.63,-4.7,0.0884,325.0,12.1,0.000744,88.2,4.38,18.8,88.3,4.37,-6.19,6.6,0.106,324.0,12.0,0.000965,28.7,0.025,6.25,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1290.0,53.3,-4.63,1290.0,53.3,9.54e-07,22.1,1.03,319.0,116.0,0.199,12.0,1.0,63.0,6.0,'Prep',1,4,19);
INSERT INTO "samples" VALUES(2,18,158.0,-4.82,-25.0,158.0,-4.72,-5.62,-3.67,0.0679,325.0,11.7,0.000664,88.6,3.92,-18.8,88.7,3.7,-7.12,4.52,0.0908,323.0,11.0,0.000705,28.7,-0.025,-12.5,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1290.0,53.4,39.2,1290.0,53.3,-9.54e-07,17.9,0.819,320.0,118.0,0.157,12.0,1.0,63.0,6.0,'Prep',1,4,20);
INSERT INTO "samples" VALUES(2,19,157.0,-5.22,-37.5,157.0,-5.22,-4.49,-5.24,0.0929,325.0,12.7,0.00103,89.0,3.03,-37.5,89.0,2.95,-7.89,4.75,0.0825,324.0,9.84,0.000522,28.7,-0.025,-12.5,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1300.0,53.2,-79.9,1300.0,53.3,0.0,25.7,0.932,321.0,121.0,0.175,12.0,1.0,63.0,6.0,'Prep',1,4,21);
INSERT INTO "samples" VALUES(2,20,157.0,-5.72,-37.5,157.0,-5.62,-3.19,-5.58,0.0985,324.0,12.5,0.00119,89.2,2.28,-6.25,89.3,2.1,-8.49,5.32,0.108,323.0,9.61,0.0005,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1300.0,53.2,-36.8,1300.0,53.3,0.0,24.7,1.06,315.0,118.0,0.203,12.0,1.0,63.0,6.0,'Prep',1,4,22);
INSERT INTO "samples" VALUES(2,21,162.0,0.075,43.8,162.0,0.0,0.0,2.22,0.0578,325.0,2.06,0.0,79.0,-6.2,-50.0,79.0,-6.0,0.0,-5.63,0.121,323.0,15.3,0.00162,29.7,0.0,6.25,29.7,0.0,0.0,0.0,0.0,0.0,0.0,443.0,53.3,-44.9,443.0,53.3,0.0,23.9,1.02,316.0,116.0,0.195,12.0,1.0,2.0,6.0,'Prep',1,4,23);
INSERT INTO "samples" VALUES(2,22,162.0,0.05,25.0,162.0,0.0,0.0,1.38,0.0581,325.0,3.47,2.59e-05,78.4,-5.97,-25.0,78.4,-6.0,0.0,-8.54,0.158,323.0,16.1,0.00209,29.7,0.025,12.5,29.7,0.0,0.0,0.0,0.0,0.0,0.0,448.0,53.3,-11.8,449.0,53.3,0.0,20.5,0.942,317.0,117.0,0.181,12.0,1.0,42.0,6.0,'Prep',1,4,24);
INSERT INTO "samples" VALUES(2,23,162.0,-0.075,-43.8,162.0,0.0,0.0,3.87,0.0424,325.0,4.1,-1.85e-05,77.9,-5.88,-50.0,77.8,-6.0,0.0,-7.34,0.135,323.0,16.1,0.00168,29.7,0.025,12.5,29.7,0.0,0.0,0.0,0.0,0.0,0.0,453.0,53.2,-45.7,454.0,53.3,9.54e-07,23.8,1.08,320.0,119.0,0.207,12.0,1.0,42.0,6.0,'Prep',1,4,25);
INSERT INTO "samples" VALUES(2,24,162.0,0.05,31.3,162.0,0.0,0.0,1.93,0.06,325.0,2.99,4.57e-05,77.2,-5.9,-31.3,77.2,-6.0,0.0,-7.63,0.13,323.0,14.9,0.00164,29.7,0.025,12.5,29.7,0.0,0.0,0.0,0.0,0.0,0.0,459.0,53.4,-11.3,459.0,53.3,9.54e-07,19.3,0.909,316.0,115.0,0.175,12.0,1.0,42.0,6.0,'Prep',1,4,26);
INSERT INTO "samples" VALUES(3,0,198.0,0.0,6.25,198.0,0.0,0.0,-1.1,0.0191,328.0,1.67,0.0,158.0,-0.05,-31.3,158.0,0.0,0.0,-1.05,0.0231,327.0,2.45,2.78e-08,119.0,-0.025,-6.25,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.0,-0.5,-978.0,0.0,0.0,-0.415,2.79e-19,328.0,0.0,-6.8e-06,12.0,1.0,2.0,50.0,'Prep',1,7,2);
INSERT INTO "samples" VALUES(3,1,198.0,0.025,18.8,198.0,0.0,0.0,0.499,0.0211,328.0,1.54,0.0,158.0,-0.025,-12.5,158.0,0.0,0.0,0.0623,0.0217,327.0,1.16,4.48e-07,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,-0.001,-0.75,-978.0,0.0,0.0,0.883,2.79e-19,328.0,0.0,0.0,12.0,1.0,0.0,50.0,'Prep',1,7,3);
INSERT INTO "samples" VALUES(3,2,198.0,0.0,12.5,198.0,0.0,0.0,1.14,0.017,328.0,2.32,6.7e-07,158.0,-0.025,-18.8,158.0,0.0,0.0,0.374,0.018,327.0,0.764,4.94e-07,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.00325,1.31,-978.0,0.0,0.0,-0.415,2.79e-19,328.0,0.0,-3.69e-06,12.0,1.0,0.0,50.0,'Prep',1,7,4);
INSERT INTO "samples" VALUES(3,3,198.0,0.0,0.0,198.0,0.0,0.0,-0.3,0.0152,328.0,0.812,-1.16e-07,158.0,-0.05,-25.0,158.0,0.0,0.0,-0.413,0.0232,327.0,2.62,1.86e-06,119.0,-0.025,-6.25,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.0,-0.25,-978.0,0.0,0.0,-0.152,2.79e-19,328.0,0.0,-6.98e-06,12.0,1.0,0.0,50.0,'Prep',1,7,5);
INSERT INTO "samples" VALUES(3,4,198.0,0.0,0.0,198.0,0.0,0.0,-0.459,0.0237,328.0,1.12,-9.39e-07,158.0,-0.05,-25.0,158.0,0.0,0.0,-0.57,0.0179,326.0,2.33,1.42e-06,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.0,-0.25,-978.0,0.0,0.0,-0.679,2.79e-19,327.0,0.0,-2.29e-06,12.0,1.0,0.0,50.0,'Prep',1,7,6);
INSERT INTO "samples" VALUES(3,5,198.0,0.0,6.25,198.0,0.0,0.0,4.65,0.0265,328.0,7.47,0.0,158.0,-0.025,-18.8,158.0,0.0,0.0,-0.264,0.0181,327.0,1.29,0.0,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.001,0.25,-978.0,0.0,0.0,-0.422,2.79e-19,327.0,0.0,-4.57e-06,12.0,1.0,0.0,50.0,'Prep',1,7,7);
INSERT INTO "samples" VALUES(3,6,198.0,0.0,0.0,198.0,0.0,0.0,-1.58,0.0237,328.0,2.43,1.78e-06,158.0,-0.05,-31.3,158.0,0.0,0.0,0.367,0.019,327.0,0.939,0.0,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.001,0.5,-978.0,0.0,0.0,-0.679,2.79e-19,328.0,0.0,5.66e-06,12.0,1.0,0.0,50.0,'Prep',1,7,8);
INSERT INTO "samples" VALUES(3,7,198.0,-0.025,-6.25,198.0,0.0,0.0,-1.1,0.0204,328.0,1.85,0.0,158.0,-0.05,-18.8,158.0,0.0,0.0,-0.733,0.016,327.0,2.79,0.0,119.0,-0.025,-12.5,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,-0.001,-0.25,-978.0,0.0,0.0,-0.679,2.79e-19,328.0,0.0,6.05e-06,12.0,1.0,0.0,50.0,'Prep',1,7,9);
INSERT INTO "samples" VALUES(3,8,198.0,0.0,0.0,198.0,0.0,0.0,-0.3,0.0198,328.0,1.37,2.82e-06,158.0,-0.025,-18.8,158.0,0.0,0.0,-1.69,0.0167,327.0,4.05,0.0,119.0,0.0,6.25,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,-0.002,-0.5,-978.0,0.0,0.0,-0.936,2.79e-19,328.0,0.0,0.0,12.0,1.0,0.0,50.0,'Prep',1,7,10);
INSERT INTO "samples" VALUES(3,9,198.0,0.0,0.0,198.0,0.0,0.0,0.0203,0.0193,328.0,1.42,1.96e-06,158.0,-0.025,-18.8,158.0,0.0,0.0,-1.37,0.023,326.0,3.06,1.36e-06,119.0,0.0,6.25,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,-0.001,-0.25,-978.0,0.0,0.0,0.0985,2.79e-19,327.0,0.0,1.61e-06,12.0,1.0,0.0,50.0,'Prep',1,7,11);
INSERT INTO "samples" VALUES(3,10,198.0,0.0,6.25,198.0,0.0,0.0,-1.26,0.0175,328.0,2.49,-1.27e-06,158.0,0.0,-12.5,158.0,0.0,0.0,-1.05,0.0184,327.0,3.0,0.0,119.0,0.0,0.0,119.0,0.0,0.0,0.0,0.0,0.0,0.0,-978.0,0.0,0.0,-978.0,0.0,0.0,0.105,2.79e-19,328.0,0.0,0.0,12.0,1.0,0.0,50.0,'Prep',1,7,12);
INSERT INTO "samples" VALUES(3,11,159.0,0.15,75.0,159.0,0.0,0.0,0.337,0.0581,325.0,5.08,3.43e-05,85.0,5.9,43.8,85.0,6.0,0.0,6.08,0.112,323.0,13.9,0.00143,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1250.0,53.4,23.3,1250.0,53.3,0.0,16.0,0.95,316.0,117.0,0.182,12.0,1.0,2.0,6.0,'Prep',1,4,13);
INSERT INTO "samples" VALUES(3,12,159.0,0.125,62.5,159.0,-0.0249,-5.86,2.92,0.0568,325.0,1.11,0.0,85.5,-0.75,-631.0,85.6,5.5,875.0,-1.12,0.16,323.0,1.94,0.000273,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1260.0,53.4,15.4,1260.0,53.3,0.0,18.9,0.711,317.0,116.0,0.136,12.0,1.0,63.0,6.0,'Prep',1,4,14);
INSERT INTO "samples" VALUES(3,13,159.0,-0.675,62.5,159.0,-0.893,-8.98,-4.68,0.0585,325.0,6.99,7.1e-05,86.1,5.8,12.5,86.1,5.93,-1.32,8.47,0.145,324.0,15.9,0.00176,28.7,-0.025,-12.5,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1260.0,53.4,19.6,1260.0,53.3,-9.54e-07,20.1,0.79,321.0,119.0,0.151,12.0,1.0,63.0,6.0,'Prep',1,4,15);
INSERT INTO "samples" VALUES(3,14,159.0,-1.52,50.0,159.0,-1.78,-8.67,-4.09,0.0827,325.0,10.2,0.000234,86.7,5.47,-62.5,86.7,5.73,-2.66,6.28,0.11,324.0,15.8,0.00122,28.7,-0.025,-12.5,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1270.0,53.2,-15.9,1270.0,53.3,0.0,27.4,1.07,320.0,118.0,0.206,12.0,1.0,63.0,6.0,'Prep',1,4,16);
INSERT INTO "samples" VALUES(3,15,159.0,-2.38,37.5,159.0,-2.62,-8.17,-4.47,0.0771,325.0,11.1,0.000376,87.2,5.32,-75.0,87.3,5.4,-3.94,3.65,0.0613,324.0,13.0,0.000638,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1270.0,53.4,27.5,1280.0,53.3,0.0,13.4,0.916,319.0,115.0,0.173,12.0,1.0,63.0,6.0,'Prep',1,4,17);
INSERT INTO "samples" VALUES(3,16,159.0,-3.35,-12.5,159.0,-3.4,-7.49,-4.67,0.0663,325.0,8.9,0.000417,87.8,4.85,-68.7,87.8,4.94,-5.12,7.84,0.104,323.0,9.81,0.000942,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1280.0,53.3,-26.1,1280.0,53.3,0.0,22.8,0.857,321.0,120.0,0.164,12.0,1.0,63.0,6.0,'Prep',1,4,18);
INSERT INTO "samples" VALUES(3,17,158.0,-4.13,-31.3,158.0,-4.11,-6.63,-4.7,0.0884,325.0,12.1,0.000744,88.2,4.38,18.8,88.3,4.37,-6.19,6.6,0.106,324.0,12.0,0.000965,28.7,0.025,6.25,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1290.0,53.3,-4.63,1290.0,53.3,9.54e-07,22.1,1.03,319.0,116.0,0.199,12.0,1.0,63.0,6.0,'Prep',1,4,19);
INSERT INTO "samples" VALUES(3,18,158.0,-4.82,-25.0,158.0,-4.72,-5.62,-3.67,0.0679,325.0,11.7,0.000664,88.6,3.92,-18.8,88.7,3.7,-7.12,4.52,0.0908,323.0,11.0,0.000705,28.7,-0.025,-12.5,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1290.0,53.4,39.2,1290.0,53.3,-9.54e-07,17.9,0.819,320.0,118.0,0.157,12.0,1.0,63.0,6.0,'Prep',1,4,20);
INSERT INTO "samples" VALUES(3,19,157.0,-5.22,-37.5,157.0,-5.22,-4.49,-5.24,0.0929,325.0,12.7,0.00103,89.0,3.03,-37.5,89.0,2.95,-7.89,4.75,0.0825,324.0,9.84,0.000522,28.7,-0.025,-12.5,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1300.0,53.2,-79.9,1300.0,53.3,0.0,25.7,0.932,321.0,121.0,0.175,12.0,1.0,63.0,6.0,'Prep',1,4,21);
INSERT INTO "samples" VALUES(3,20,157.0,-5.72,-37.5,157.0,-5.62,-3.19,-5.58,0.0985,324.0,12.5,0.00119,89.2,2.28,-6.25,89.3,2.1,-8.49,5.32,0.108,323.0,9.61,0.0005,28.7,0.0,0.0,28.7,0.0,0.0,0.0,0.0,0.0,0.0,1300.0,53.2,-36.8,1300.0,53.3,0.0,24.7,1.06,315.0,118.0,0.203,12.0,1.0,63.0,6.0,'Prep',1,4,22);
INSERT INTO "samples" VALUES(3,21,162.0,0.075,43.8,162.0,0.0,0.0,2.22,0.0578,325.0,2.06,0.0,79.0,-6.2,-50.0,79.0,-6.0,0.0,-5.63,0.121,323.0,15.3,0.00162,29.7,0.0,6.25,29.7,0.0,0.0,0.0,0.0,0.0,0.0,443.0,53.3,-44.9,443.0,53.3,0.0,23.9,1.02,316.0,116.0,0.195,12.0,1.0,2.0,6.0,'Prep',1,4,23);
INSERT INTO "samples" VALUES(3,22,162.0,0.05,25.0,162.0,0.0,0.0,1.38,0.0581,325.0,3.47,2.59e-05,78.4,-5.97,-25.0,78.4,-6.0,0.0,-8.54,0.158,323.0,16.1,0.00209,29.7,0.025,12.5,29.7,0.0,0.0,0.0,0.0,0.0,0.0,448.0,53.3,-11.8,449.0,53.3,0.0,20.5,0.942,317.0,117.0,0.181,12.0,1.0,42.0,6.0,'Prep',1,4,24);
INSERT INTO "samples" VALUES(3,23,162.0,-0.075,-43.8,162.0,0.0,0.0,3.87,0.0424,325.0,4.1,-1.85e-05,77.9,-5.88,-50.0,77.8,-6.0,0.0,-7.34,0.135,323.0,16.1,0.00168,29.7,0.025,12.5,29.7,0.0,0.0,0.0,0.0,0.0,0.0,453.0,53.2,-45.7,454.0,53.3,9.54e-07,23.8,1.08,320.0,119.0,0.207,12.0,1.0,42.0,6.0,'Prep',1,4,25);
CREATE TABLE source_files (
	id INTEGER NOT NULL, 
	experiment INTEGER NOT NULL, 
	file_name VARCHAR(1024) NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	rows INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	is_current BOOLEAN NOT NULL, 
	imported_at DATETIME NOT NULL, 
	flags JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (experiment, sha256), 
	UNIQUE (experiment, version)
);
INSERT INTO "source_files" VALUES(1,1,'experiment_01.csv','15226e8251f58fe9adc06577b71ae171307f3b208fde99c9c92ffe9c36856e02',25,1,1,'2026-12-03 19:14:28.791000','{"documented_unreliable_rows": 25}');
INSERT INTO "source_files" VALUES(2,6,'experiment_06.csv','49196b8d74511d218101e69698458d7223093403e27bada72d5ae6bbb165cf87',25,1,0,'2026-12-03 19:14:28.884776','{"documented_unreliable_rows": 11}');
INSERT INTO "source_files" VALUES(3,6,'experiment_06.csv','ed3e983c478e9e6b5b240ea7d0d931174117b7483f05e6ba2849216051015291',24,2,1,'2026-12-03 19:14:29.024563','{"documented_unreliable_rows": 11}');
CREATE TABLE store_info (
	"key" VARCHAR(64) NOT NULL, 
	value VARCHAR(256), 
	PRIMARY KEY ("key")
);
INSERT INTO "store_info" VALUES('schema_version','1');
CREATE INDEX ix_source_files_experiment ON source_files (experiment);
CREATE INDEX ix_audit_trail_machine_at ON audit_trail (machine, at);
CREATE TRIGGER audit_trail_no_update BEFORE UPDATE ON audit_trail BEGIN SELECT RAISE(ABORT, 'audit_trail is append-only'); END;
CREATE TRIGGER audit_trail_no_delete BEFORE DELETE ON audit_trail BEGIN SELECT RAISE(ABORT, 'audit_trail is append-only'); END;
CREATE INDEX ix_prediction_log_machine_logged_at ON prediction_log (machine, logged_at);
CREATE INDEX ix_pipeline_firings_trigger ON pipeline_firings ("trigger");
CREATE INDEX ix_pipeline_firings_fired_at ON pipeline_firings (fired_at);
CREATE INDEX ix_prediction_feedback_recorded_at ON prediction_feedback (recorded_at);
CREATE INDEX ix_prediction_feedback_model_version ON prediction_feedback (model_version);
COMMIT;
