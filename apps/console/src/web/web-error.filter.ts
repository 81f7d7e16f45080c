import { ArgumentsHost, Catch, ExceptionFilter, Injectable } from '@nestjs/common';
import { toProblem } from '@switchboard/http';
import type { FastifyReply } from 'fastify';
import { pageOf, WebRequest } from './web-request';
import { WebViews } from './web-views';

/**
 * Errors on the console's pages as an HTML page (the API keeps problem+json): the same status and code, the
 * message and field errors a person can act on, and a way back. Internals never leak (toProblem logs them).
 */
@Catch()
@Injectable()
export class WebErrorFilter implements ExceptionFilter {
  constructor(private readonly views: WebViews) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<WebRequest>();
    const reply = http.getResponse<FastifyReply>();
    const problem = toProblem(error, req.url.split('?')[0], String(req.id));
    req.problemCode = problem.code;
    const signIn = problem.status === 401;
    const html = this.views.render('pages/error.njk', pageOf(req), {
      title: signIn ? 'Sign in' : problem.title,
      problem,
      signIn,
      back: req.method === 'GET' ? null : (req.headers.referer ?? null),
    });
    void reply
      .status(problem.status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(html);
  }
}
