import { Controller, DynamicModule, Get, Header, Inject, Injectable, Module } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import type { AnyClass, JsonSchema } from '@switchboard/contracts';
import type { FastifyInstance } from 'fastify';
import { ApiDoc } from './api-doc';
import { renderDocsPage } from './docs-page';
import { buildOpenApiDocument, nestRoutes, type OpenApiOptions } from './openapi-document';
import { registeredRoutes } from './route-table';
import { isFastRoutes } from '../fast-routes';

const OPENAPI_OPTIONS = Symbol('OPENAPI_OPTIONS');

/** Builds the document once, on first request: by then every module has registered its routes. */
@Injectable()
export class OpenApiService {
  private cached: { json: string; html: string } | null = null;

  constructor(
    @Inject(OPENAPI_OPTIONS) private readonly options: OpenApiOptions,
    private readonly discovery: DiscoveryService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  document(): JsonSchema {
    return JSON.parse(this.rendered().json) as JsonSchema;
  }

  rendered(): { json: string; html: string } {
    if (!this.cached) {
      // Controllers, and the controller-shaped classes whose routes Fastify serves directly (fast-routes.ts).
      const controllers = [
        ...this.discovery.getControllers(),
        ...this.discovery.getProviders().filter((wrapper) => isFastRoutes(wrapper.metatype)),
      ]
        .map((wrapper) => wrapper.metatype as AnyClass | null)
        .filter((c): c is AnyClass => !!c);
      const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
      const doc = buildOpenApiDocument(this.options, registeredRoutes(fastify), nestRoutes(controllers));
      this.cached = { json: JSON.stringify(doc), html: renderDocsPage(doc) };
    }
    return this.cached;
  }
}

/** Public on purpose: the API's shape is no secret, and clients and people need it before they have a key. */
@Controller()
@ApiDoc({ tags: ['Documentation'], security: [] })
export class OpenApiController {
  constructor(private readonly openApi: OpenApiService) {}

  @Get('openapi.json')
  @ApiDoc({
    summary: 'This OpenAPI 3.1 document, generated at start from the routes and contracts.',
    responses: { 200: { description: 'The OpenAPI document.', schema: { type: 'object' } } },
  })
  @Header('Content-Type', 'application/json; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  json(): string {
    return this.openApi.rendered().json;
  }

  @Get('docs')
  @ApiDoc({
    summary: 'The same document as a page for people.',
    responses: {
      200: { description: 'An HTML page.', contentType: 'text/html', schema: { type: 'string' } },
    },
  })
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  // The page has no script and no outside resource: a strict policy costs nothing.
  @Header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
  html(): string {
    return this.openApi.rendered().html;
  }
}

/** `GET /openapi.json` and `GET /docs` for the app that imports it (see buildOpenApiDocument). */
@Module({})
export class OpenApiModule {
  static forRoot(options: OpenApiOptions): DynamicModule {
    return {
      module: OpenApiModule,
      imports: [DiscoveryModule],
      controllers: [OpenApiController],
      providers: [{ provide: OPENAPI_OPTIONS, useValue: options }, OpenApiService],
      exports: [OpenApiService],
    };
  }
}
