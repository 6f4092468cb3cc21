// Shapes of the API resources the shell uses; features declare their own next to their API calls.
export type Role = "agent" | "back_office" | "supervisor" | "admin";
export type Presence = "online" | "away" | "offline";

export interface Membership {
  department_id: number;
  department_name: string;
  is_lead: boolean;
}

export interface Me {
  id: number;
  email: string;
  name: string;
  role: Role;
  presence: Presence;
  languages: string[];
  skills: string[];
  memberships: Membership[];
  authenticated_via: string;
  scopes: string[];
  csrf_token?: string;
}
