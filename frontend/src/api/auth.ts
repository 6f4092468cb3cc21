import { http } from "./http";
import type { Me } from "./types";

export const authApi = {
  csrf: () => http.get<{ csrf_token: string }>("/auth/csrf"),
  login: (email: string, password: string) => http.post<Me>("/auth/login", { email, password }),
  logout: () => http.post<null>("/auth/logout"),
  me: () => http.get<Me>("/me"),
};
