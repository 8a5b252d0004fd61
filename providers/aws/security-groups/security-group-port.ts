/** The provider's SecurityGroupPort (aws-provider.ts) implemented against EC2 with the functions of this folder. */
import type { SecurityGroupPort } from "../aws-provider.js";
import type { AwsClients } from "../aws-types.js";
import { ensureBackendSecurityGroup, ensureNodeAccess } from "./backend-security-group.js";
import type { DeleteRetryOptions } from "./delete-security-group.js";
import { deleteFrontendSecurityGroup, ensureFrontendSecurityGroup } from "./frontend-security-group.js";

export function ec2SecurityGroups(clients: AwsClients, deleteOptions?: DeleteRetryOptions): SecurityGroupPort {
  return {
    ensureFrontend: (input, signal) => ensureFrontendSecurityGroup(clients, input, signal),
    ensureBackend: (clusterId, vpcId, signal) => ensureBackendSecurityGroup(clients, { clusterId, vpcId }, signal),
    ensureNodeAccess: (nodeGroupId, backendGroupId, signal) =>
      ensureNodeAccess(clients, nodeGroupId, backendGroupId, signal),
    deleteFrontend: (id, signal) => deleteFrontendSecurityGroup(clients, id, signal, deleteOptions),
  };
}
