-- A Stageflow database at schema version 1 (before jobs.last_error), with a row or
-- two in every table: the starting point of tests/test_migrations.py. Never edit.
BEGIN TRANSACTION;
CREATE TABLE "api_tokens" ("id" INTEGER NOT NULL PRIMARY KEY, "user_id" INTEGER NOT NULL, "token_hash" VARCHAR(64) NOT NULL, "label" VARCHAR(255) NOT NULL, "created_at" DATETIME NOT NULL, "last_used_at" DATETIME, "revoked_at" DATETIME, FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);
INSERT INTO "api_tokens" VALUES(1,2,'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','cli','2026-11-01 09:30:00',NULL,NULL);
CREATE TABLE "definition_versions" ("id" INTEGER NOT NULL PRIMARY KEY, "definition_id" INTEGER NOT NULL, "version" INTEGER NOT NULL, "content" TEXT NOT NULL, "content_hash" VARCHAR(64) NOT NULL, "parsed" TEXT NOT NULL, "source" VARCHAR(255), "active" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, "created_by_id" INTEGER, FOREIGN KEY ("definition_id") REFERENCES "definitions" ("id") ON DELETE CASCADE, FOREIGN KEY ("created_by_id") REFERENCES "users" ("id") ON DELETE SET NULL);
INSERT INTO "definition_versions" VALUES(1,1,1,'kind: orchestration
name: case_escalation
stages: []
','bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb','{"kind":"orchestration","stages":[]}',NULL,0,'2026-11-01 09:30:00',1);
INSERT INTO "definition_versions" VALUES(2,1,2,'kind: orchestration
name: case_escalation
stages: []
label: Case
','cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc','{"kind":"orchestration","label":"Case","stages":[]}',NULL,1,'2026-11-01 09:30:00',1);
CREATE TABLE "definitions" ("id" INTEGER NOT NULL PRIMARY KEY, "kind" VARCHAR(20) NOT NULL, "name" VARCHAR(150) NOT NULL, "created_at" DATETIME NOT NULL);
INSERT INTO "definitions" VALUES(1,'orchestration','case_escalation','2026-11-01 09:30:00');
CREATE TABLE "events" ("id" INTEGER NOT NULL PRIMARY KEY, "run_id" INTEGER NOT NULL, "at" DATETIME NOT NULL, "actor" VARCHAR(150) NOT NULL, "kind" VARCHAR(50) NOT NULL, "subject" VARCHAR(310), "from_status" VARCHAR(20), "to_status" VARCHAR(20), "reason" TEXT, "data" TEXT, FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE);
INSERT INTO "events" VALUES(1,1,'2026-11-01 09:30:00','alice','run_started',NULL,NULL,'InProgress',NULL,'{"inputs":{"reason":"late"}}');
INSERT INTO "events" VALUES(2,1,'2026-11-01 09:30:00','system','stage_started','stage:triage','NotStarted','InProgress',NULL,NULL);
CREATE TABLE "group_memberships" ("id" INTEGER NOT NULL PRIMARY KEY, "group_id" INTEGER NOT NULL, "user_id" INTEGER NOT NULL, FOREIGN KEY ("group_id") REFERENCES "groups" ("id") ON DELETE CASCADE, FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);
INSERT INTO "group_memberships" VALUES(1,1,1);
CREATE TABLE "groups" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(150) NOT NULL);
INSERT INTO "groups" VALUES(1,'engineers');
CREATE TABLE "jobs" ("id" INTEGER NOT NULL PRIMARY KEY, "kind" VARCHAR(50) NOT NULL, "payload" TEXT NOT NULL, "run_id" INTEGER, "status" VARCHAR(20) NOT NULL, "run_at" DATETIME NOT NULL, "leased_until" DATETIME, "lease_owner" VARCHAR(150), "attempts" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE);
INSERT INTO "jobs" VALUES(1,'run_step','{"step_run":1}',1,'Queued','2026-11-01 09:30:00',NULL,NULL,0,'2026-11-01 09:30:00');
CREATE TABLE "queue_memberships" ("id" INTEGER NOT NULL PRIMARY KEY, "queue_id" INTEGER NOT NULL, "user_id" INTEGER NOT NULL, FOREIGN KEY ("queue_id") REFERENCES "queues" ("id") ON DELETE CASCADE, FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);
INSERT INTO "queue_memberships" VALUES(1,1,2);
CREATE TABLE "queues" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(150) NOT NULL);
INSERT INTO "queues" VALUES(1,'tier1');
CREATE TABLE "records" ("id" INTEGER NOT NULL PRIMARY KEY, "object" VARCHAR(150) NOT NULL, "owner_id" INTEGER, "data" TEXT NOT NULL, "prior" TEXT, "created_at" DATETIME NOT NULL, "created_by_id" INTEGER, "updated_at" DATETIME NOT NULL, "updated_by_id" INTEGER, FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE SET NULL, FOREIGN KEY ("created_by_id") REFERENCES "users" ("id") ON DELETE SET NULL, FOREIGN KEY ("updated_by_id") REFERENCES "users" ("id") ON DELETE SET NULL);
INSERT INTO "records" VALUES(1,'Case',2,'{"Subject":"Printer on fire","Priority":"High","Amount":150.5}',NULL,'2026-11-01 09:30:00',2,'2026-11-01 09:30:00',2);
CREATE TABLE "runs" ("id" INTEGER NOT NULL PRIMARY KEY, "orchestration_id" INTEGER NOT NULL, "status" VARCHAR(20) NOT NULL, "inputs" TEXT NOT NULL, "outputs" TEXT, "record_object" VARCHAR(150), "record_id" VARCHAR(150), "started_by_id" INTEGER, "restarted_from_id" INTEGER, "started_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "finished_at" DATETIME, FOREIGN KEY ("orchestration_id") REFERENCES "definition_versions" ("id"), FOREIGN KEY ("started_by_id") REFERENCES "users" ("id") ON DELETE SET NULL, FOREIGN KEY ("restarted_from_id") REFERENCES "runs" ("id") ON DELETE SET NULL);
INSERT INTO "runs" VALUES(1,2,'InProgress','{"reason":"late","amount":150.5}',NULL,'Case','1',2,NULL,'2026-11-01 09:30:00','2026-11-01 09:30:00',NULL);
CREATE TABLE "schema_version" ("version" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "applied_at" DATETIME NOT NULL);
INSERT INTO "schema_version" VALUES(1,'create tables','2026-11-01 09:30:00');
CREATE TABLE "stage_runs" ("id" INTEGER NOT NULL PRIMARY KEY, "run_id" INTEGER NOT NULL, "name" VARCHAR(150) NOT NULL, "position" INTEGER NOT NULL, "status" VARCHAR(20) NOT NULL, "started_at" DATETIME, "finished_at" DATETIME, FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE);
INSERT INTO "stage_runs" VALUES(1,1,'triage',0,'InProgress','2026-11-01 09:30:00',NULL);
CREATE TABLE "step_runs" ("id" INTEGER NOT NULL PRIMARY KEY, "run_id" INTEGER NOT NULL, "stage_run_id" INTEGER NOT NULL, "name" VARCHAR(150) NOT NULL, "status" VARCHAR(20) NOT NULL, "attempt" INTEGER NOT NULL, "outputs" TEXT, "error" TEXT, "idempotency_key" VARCHAR(255), "flow_version_id" INTEGER, "child_run_id" INTEGER, "started_at" DATETIME, "finished_at" DATETIME, FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE, FOREIGN KEY ("stage_run_id") REFERENCES "stage_runs" ("id") ON DELETE CASCADE, FOREIGN KEY ("flow_version_id") REFERENCES "definition_versions" ("id"), FOREIGN KEY ("child_run_id") REFERENCES "runs" ("id") ON DELETE SET NULL);
INSERT INTO "step_runs" VALUES(1,1,1,'triage','InProgress',1,NULL,NULL,'1:1',1,NULL,'2026-11-01 09:30:00',NULL);
CREATE TABLE "users" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(150) NOT NULL, "email" VARCHAR(255), "is_admin" INTEGER NOT NULL, "is_active" INTEGER NOT NULL, "password_hash" VARCHAR(255), "manager_id" INTEGER, "created_at" DATETIME NOT NULL, FOREIGN KEY ("manager_id") REFERENCES "users" ("id") ON DELETE SET NULL);
INSERT INTO "users" VALUES(1,'carol','carol@example.com',1,1,NULL,NULL,'2026-11-01 09:30:00');
INSERT INTO "users" VALUES(2,'alice','alice@example.com',0,1,'pbkdf2:sha256$x',1,'2026-11-01 09:30:00');
CREATE TABLE "work_items" ("id" INTEGER NOT NULL PRIMARY KEY, "run_id" INTEGER NOT NULL, "step_run_id" INTEGER NOT NULL, "status" VARCHAR(20) NOT NULL, "assignee_kind" VARCHAR(20) NOT NULL, "assignee_name" VARCHAR(150) NOT NULL, "claimed_by_id" INTEGER, "due_at" DATETIME, "escalation_level" INTEGER NOT NULL, "outputs" TEXT, "created_at" DATETIME NOT NULL, "completed_at" DATETIME, "completed_by_id" INTEGER, FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE, FOREIGN KEY ("step_run_id") REFERENCES "step_runs" ("id") ON DELETE CASCADE, FOREIGN KEY ("claimed_by_id") REFERENCES "users" ("id") ON DELETE SET NULL, FOREIGN KEY ("completed_by_id") REFERENCES "users" ("id") ON DELETE SET NULL);
INSERT INTO "work_items" VALUES(1,1,1,'Assigned','queue','tier1',NULL,'2026-11-01 13:30:00',0,NULL,'2026-11-01 09:30:00',NULL,NULL);
CREATE UNIQUE INDEX "users_name" ON "users" ("name");
CREATE INDEX "users_manager_id" ON "users" ("manager_id");
CREATE INDEX "api_tokens_user_id" ON "api_tokens" ("user_id");
CREATE UNIQUE INDEX "api_tokens_token_hash" ON "api_tokens" ("token_hash");
CREATE UNIQUE INDEX "definitions_kind_name" ON "definitions" ("kind", "name");
CREATE INDEX "definition_versions_definition_id" ON "definition_versions" ("definition_id");
CREATE INDEX "definition_versions_created_by_id" ON "definition_versions" ("created_by_id");
CREATE UNIQUE INDEX "definition_versions_definition_id_version" ON "definition_versions" ("definition_id", "version");
CREATE UNIQUE INDEX "definition_versions_one_active" ON "definition_versions" ("definition_id") WHERE ("active" = 1);
CREATE INDEX "runs_orchestration_id" ON "runs" ("orchestration_id");
CREATE INDEX "runs_status" ON "runs" ("status");
CREATE INDEX "runs_started_by_id" ON "runs" ("started_by_id");
CREATE INDEX "runs_restarted_from_id" ON "runs" ("restarted_from_id");
CREATE INDEX "runs_record_object_record_id" ON "runs" ("record_object", "record_id");
CREATE INDEX "events_run_id" ON "events" ("run_id");
CREATE UNIQUE INDEX "groups_name" ON "groups" ("name");
CREATE INDEX "group_memberships_group_id" ON "group_memberships" ("group_id");
CREATE INDEX "group_memberships_user_id" ON "group_memberships" ("user_id");
CREATE UNIQUE INDEX "group_memberships_group_id_user_id" ON "group_memberships" ("group_id", "user_id");
CREATE INDEX "jobs_run_id" ON "jobs" ("run_id");
CREATE INDEX "jobs_status_run_at" ON "jobs" ("status", "run_at");
CREATE INDEX "jobs_status_leased_until" ON "jobs" ("status", "leased_until");
CREATE UNIQUE INDEX "queues_name" ON "queues" ("name");
CREATE INDEX "queue_memberships_queue_id" ON "queue_memberships" ("queue_id");
CREATE INDEX "queue_memberships_user_id" ON "queue_memberships" ("user_id");
CREATE UNIQUE INDEX "queue_memberships_queue_id_user_id" ON "queue_memberships" ("queue_id", "user_id");
CREATE INDEX "records_object" ON "records" ("object");
CREATE INDEX "records_owner_id" ON "records" ("owner_id");
CREATE INDEX "records_created_by_id" ON "records" ("created_by_id");
CREATE INDEX "records_updated_by_id" ON "records" ("updated_by_id");
CREATE INDEX "stage_runs_run_id" ON "stage_runs" ("run_id");
CREATE INDEX "stage_runs_status" ON "stage_runs" ("status");
CREATE UNIQUE INDEX "stage_runs_run_id_name" ON "stage_runs" ("run_id", "name");
CREATE INDEX "step_runs_run_id" ON "step_runs" ("run_id");
CREATE INDEX "step_runs_stage_run_id" ON "step_runs" ("stage_run_id");
CREATE INDEX "step_runs_status" ON "step_runs" ("status");
CREATE UNIQUE INDEX "step_runs_idempotency_key" ON "step_runs" ("idempotency_key");
CREATE INDEX "step_runs_flow_version_id" ON "step_runs" ("flow_version_id");
CREATE INDEX "step_runs_child_run_id" ON "step_runs" ("child_run_id");
CREATE UNIQUE INDEX "step_runs_run_id_name" ON "step_runs" ("run_id", "name");
CREATE INDEX "work_items_run_id" ON "work_items" ("run_id");
CREATE INDEX "work_items_step_run_id" ON "work_items" ("step_run_id");
CREATE INDEX "work_items_status" ON "work_items" ("status");
CREATE INDEX "work_items_claimed_by_id" ON "work_items" ("claimed_by_id");
CREATE INDEX "work_items_completed_by_id" ON "work_items" ("completed_by_id");
CREATE INDEX "work_items_assignee_kind_assignee_name_status" ON "work_items" ("assignee_kind", "assignee_name", "status");
CREATE INDEX "work_items_status_due_at" ON "work_items" ("status", "due_at");
COMMIT;
