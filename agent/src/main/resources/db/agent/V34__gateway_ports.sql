-- The TCP ports of a machine the cluster's gateways may reach over the private network (its http_service internal
-- port), comma-separated; empty: none (dev.bolero.network.MachineAllocation#gatewayPorts).
ALTER TABLE network_machines ADD COLUMN gateway_ports TEXT NOT NULL DEFAULT '';
