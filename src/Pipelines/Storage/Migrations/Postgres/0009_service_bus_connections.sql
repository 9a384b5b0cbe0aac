-- A tenant's Service Bus connection strings, by name, encrypted with the tenant secret protector.
CREATE TABLE service_bus_connections (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  namespace TEXT NOT NULL,
  protected_connection_string TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
