import { Body, Controller, Get, Headers, HttpCode, Post, UseGuards, type CanActivate } from '@nestjs/common';
import { IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { ApiDoc } from './api-doc';
import { buildOpenApiDocument, nestRoutes, toOpenApiPath } from './openapi-document';

class ThingDto {
  @IsString()
  @MaxLength(20)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  count?: number;
}

class SampleGuard implements CanActivate {
  canActivate() {
    return true;
  }
}

@Controller('v1/things')
@UseGuards(SampleGuard)
class ThingsController {
  @Post()
  @HttpCode(202)
  @ApiDoc({ summary: 'Add a thing.', body: { dto: ThingDto } })
  add(@Body() _body: unknown, @Headers('idempotency-key') _key?: string) {}

  @Get(':id')
  show() {}
}

describe('OpenAPI document', () => {
  it('turns Fastify URLs into path templates', () => {
    expect(toOpenApiPath('/v1/things/:id')).toBe('/v1/things/{id}');
    expect(toOpenApiPath('/v1/providers/:provider/:peerId/*')).toBe(
      '/v1/providers/{provider}/{peerId}/{subPath}',
    );
    expect(toOpenApiPath('/a/:n(^\\d+)/')).toBe('/a/{n}');
  });

  it('documents every registered route; Nest metadata and @ApiDoc fill in what they know', () => {
    const doc = buildOpenApiDocument(
      { title: 'T', version: '1', securityByGuard: { SampleGuard: [['bearer']] } },
      [
        { method: 'POST', url: '/v1/things' },
        { method: 'GET', url: '/v1/things/:id' },
        { method: 'GET', url: '/plugin-route' },
        { method: 'HEAD', url: '/v1/things/:id' },
      ],
      nestRoutes([ThingsController]),
    ) as any;
    expect(Object.keys(doc.paths).sort()).toEqual(['/plugin-route', '/v1/things', '/v1/things/{id}']);
    const add = doc.paths['/v1/things'].post;
    expect(add.summary).toBe('Add a thing.');
    expect(Object.keys(add.responses)).toEqual(['202', 'default']);
    expect(add.security).toEqual([{ bearer: [] }]);
    expect(add.parameters).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]);
    expect(add.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ThingDto',
    });
    expect(doc.components.schemas.ThingDto).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 20 },
        count: { type: ['integer', 'null'], minimum: 1 },
      },
      required: ['name'],
      additionalProperties: false,
    });
    const show = doc.paths['/v1/things/{id}'].get;
    expect(show.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(Object.keys(show.responses)).toEqual(['200', 'default']);
    expect(doc.paths['/plugin-route'].get.security).toEqual([]);
  });
});
