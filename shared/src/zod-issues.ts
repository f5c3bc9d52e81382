import type { z } from 'zod';

/** One line per problem, `path: message`, capped so a hostile input can't make a huge reason. */
export function summariseIssues(error: z.ZodError, maxIssues = 10, maxChars = 1000): string {
  const lines = error.issues.slice(0, maxIssues).map((i) => {
    const path = i.path.length ? i.path.map(String).join('.') : '(root)';
    return `${path}: ${i.message}`;
  });
  if (error.issues.length > maxIssues) lines.push(`… and ${error.issues.length - maxIssues} more`);
  const s = lines.join('; ');
  return s.length > maxChars ? `${s.slice(0, maxChars - 1)}…` : s;
}

/** Issues as a list for API error details: `{path, message}`, capped. */
export function issueList(error: z.ZodError, maxIssues = 50): { path: string; message: string }[] {
  return error.issues.slice(0, maxIssues).map((i) => ({
    path: i.path.map(String).join('.'),
    message: i.message.slice(0, 500),
  }));
}
