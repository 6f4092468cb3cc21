// The department board's API: GET /departments/<id>/tasks (service_hub/casework/department_tasks.py)
// and the case actions it offers (POST /tickets/<id>/case/actions).
import { http } from "@/api/http";

export interface BoardAction {
  action: string;
  name: string;
  required_fields: string[];
  needs_task: boolean;
}

export interface BoardItem {
  ticket_id: number;
  number: number;
  subject: string;
  priority: string;
  version: number;
  department_id: number;
  kind: "case" | "countersign";
  task_key: string | null;
  lead: boolean | null;
  state: string;
  workflow_name: string;
  step: string;
  step_name: string;
  since: string;
  from_department: { id: number; name: string } | null;
  clock: { kind: string; status: string; started_at: string; due_at: string | null } | null;
  actions: BoardAction[];
}

export interface BoardPage {
  department_id: number;
  items: BoardItem[];
}

export interface CaseActionBody {
  action: string;
  version: number;
  task_id?: string | null;
  inputs?: Record<string, unknown>;
}

export const boardApi = {
  tasks: (departmentId: number, state: "open" | "closed" | "all" = "open", signal?: AbortSignal) =>
    http.get<BoardPage>(`/departments/${departmentId}/tasks`, { state }, signal),
  act: (ticketId: number, body: CaseActionBody) => http.post<unknown>(`/tickets/${ticketId}/case/actions`, body),
};

/** The actions a card offers, in this order; any other action is done from the case view. */
export const BOARD_ACTIONS = ["acknowledge", "return", "return_task", "request_extension"] as const;
export type BoardActionName = (typeof BOARD_ACTIONS)[number];

/** The request a card action makes: the task's id for task actions, the inputs the form collected. */
export function actionBody(item: BoardItem, action: BoardAction, inputs: Record<string, unknown>): CaseActionBody {
  return { action: action.action, version: item.version, task_id: action.needs_task ? item.task_key : null, inputs };
}

/** What a card says its state is: the sign-for / handling / review stages in words, else the step's name. */
export function stateKey(item: BoardItem): string | null {
  if (item.kind === "countersign") return `board.state.task_${item.state}`;
  if (item.state === "suspended") return "board.state.suspended";
  const known: Record<string, string> = {
    acknowledge: "pending",
    handle: "acknowledged",
    reply: "acknowledged",
    return_review: "returned",
    extension_review: "extension",
    dispatch: "to_dispatch",
  };
  return known[item.step] ? `board.state.${known[item.step]}` : null;
}
