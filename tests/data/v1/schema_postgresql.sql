CREATE TABLE data_loads (
	id SERIAL NOT NULL, 
	source VARCHAR NOT NULL, 
	detail TEXT NOT NULL, 
	started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	finished_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	status VARCHAR NOT NULL, 
	counts TEXT NOT NULL, 
	error TEXT, 
	PRIMARY KEY (id)
);

CREATE TABLE deals (
	deal_id VARCHAR NOT NULL, 
	lead_id VARCHAR, 
	owner_id VARCHAR, 
	amount FLOAT, 
	created_at TIMESTAMP WITH TIME ZONE, 
	closed_at TIMESTAMP WITH TIME ZONE, 
	status VARCHAR NOT NULL, 
	pipeline VARCHAR, 
	PRIMARY KEY (deal_id)
);

CREATE INDEX ix_deals_closed_at ON deals (closed_at);

CREATE INDEX ix_deals_lead_id ON deals (lead_id);

CREATE TABLE leads (
	lead_id VARCHAR NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE, 
	mql_at TIMESTAMP WITH TIME ZONE, 
	assigned_at TIMESTAMP WITH TIME ZONE, 
	sql_at TIMESTAMP WITH TIME ZONE, 
	customer_at TIMESTAMP WITH TIME ZONE, 
	disqualified_at TIMESTAMP WITH TIME ZONE, 
	segment VARCHAR, 
	source VARCHAR, 
	owner_id VARCHAR, 
	updated_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (lead_id)
);

CREATE INDEX ix_leads_mql_at ON leads (mql_at);

CREATE TABLE month_notes (
	month VARCHAR NOT NULL, 
	notes TEXT NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_by VARCHAR NOT NULL, 
	PRIMARY KEY (month)
);

CREATE TABLE month_snapshots (
	id SERIAL NOT NULL, 
	month VARCHAR NOT NULL, 
	as_of TIMESTAMP WITH TIME ZONE NOT NULL, 
	closed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	closed_by VARCHAR NOT NULL, 
	terms_version_id INTEGER, 
	payload TEXT NOT NULL, 
	superseded BOOLEAN NOT NULL, 
	notes TEXT, 
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ux_month_snapshots_current ON month_snapshots (month) WHERE NOT superseded;

CREATE INDEX ix_month_snapshots_month ON month_snapshots (month);

CREATE TABLE owners (
	owner_id VARCHAR NOT NULL, 
	name VARCHAR, 
	email VARCHAR, 
	team VARCHAR, 
	active BOOLEAN NOT NULL, 
	PRIMARY KEY (owner_id)
);

CREATE TABLE sync_state (
	object_type VARCHAR NOT NULL, 
	cursor TEXT NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (object_type)
);

CREATE TABLE terms_versions (
	id SERIAL NOT NULL, 
	effective_from VARCHAR NOT NULL, 
	toml TEXT NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	note VARCHAR, 
	PRIMARY KEY (id)
);

CREATE TABLE touches (
	touch_id VARCHAR NOT NULL, 
	lead_id VARCHAR NOT NULL, 
	owner_id VARCHAR, 
	kind VARCHAR NOT NULL, 
	occurred_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	automated BOOLEAN NOT NULL, 
	direction VARCHAR, 
	PRIMARY KEY (touch_id)
);

CREATE INDEX ix_touches_lead_id ON touches (lead_id);

CREATE INDEX ix_touches_occurred_at ON touches (occurred_at);
