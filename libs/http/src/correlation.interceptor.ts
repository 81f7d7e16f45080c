import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Correlation } from '@switchboard/observability';
import type { FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';

/** Runs the handler inside the request's correlation context so logs and outgoing messages carry it. */
@Injectable()
export class CorrelationInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle(); // AMQP: the transport sets the context
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    return new Observable((subscriber) =>
      Correlation.run({ correlationId: String(req.id) }, () => next.handle().subscribe(subscriber)),
    );
  }
}
