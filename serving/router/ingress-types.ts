import type { Deployment, DeploymentRouter } from './deployment-router.ts';
import type { ReplicaChannel } from './replica-channel.ts';
import type { VersionPool } from './version-pool.ts';

/** An ingress process's routing state: deployments whose pools hold channels to replicas. */
export type IngressRouter = DeploymentRouter<ReplicaChannel>;
export type IngressDeployment = Deployment<ReplicaChannel>;
export type IngressPool = VersionPool<ReplicaChannel>;
