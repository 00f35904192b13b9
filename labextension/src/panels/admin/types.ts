/**
 * Wire types of the admin routes (`/labworks/admin/...`), which relay the
 * platform service's admin API (`/api/v1/admin/...`).
 */

/**
 * An account of the platform (GET admin/users).
 */
export interface IAdminUser {
  name: string;
  admin: boolean;
  /** The groups it is a member of. */
  groups: string[];
  /** A disabled account cannot log in; its tokens, servers and jobs stopped. */
  disabled: boolean;
  /** ISO 8601, or `null` when the platform does not know. */
  created_at: string | null;
}

/**
 * A group with its members (GET admin/groups).
 */
export interface IAdminGroup {
  name: string;
  members: string[];
}

/**
 * What a transfer moved from one user to another, by kind (e.g.
 * `{"experiments": 2, "datasets": 1}`).
 */
export interface ITransferred {
  moved: Record<string, number>;
}
