import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelSafe, methodLabel, pathOnly, routeTemplate } from '../../lib/observability/redact.js';

describe('methodLabel', () => {
  it('keeps the standard methods, upper case, and folds the rest into _OTHER', () => {
    assert.equal(methodLabel('GET'), 'GET');
    assert.equal(methodLabel('patch'), 'PATCH');
    for (const m of ['PURGE', 'PROPFIND', 'GET /x', '']) assert.equal(methodLabel(m), '_OTHER');
  });
});

describe('pathOnly', () => {
  it('drops query and fragment', () => {
    assert.equal(pathOnly('/secret/42?token=x'), '/secret/42');
    assert.equal(pathOnly('/a#frag?x'), '/a');
    assert.equal(pathOnly('/a?x#frag'), '/a');
    assert.equal(pathOnly('?only=query'), '/');
    assert.equal(pathOnly(''), '/');
  });

  it('takes the path of an absolute URL, leaving scheme, userinfo and host out', () => {
    assert.equal(pathOnly('http://user:pw@host:8080/a/b?q=1#f'), '/a/b');
    assert.equal(pathOnly('https://host'), '/');
    assert.equal(pathOnly('https://host?x=1'), '/');
  });
});

describe('labelSafe', () => {
  it('passes host:port keys and plain names unchanged', () => {
    for (const k of ['10.0.0.1:8080', '[::1]:8080', 'users', 'dns://users.svc:80'])
      assert.equal(labelSafe(k), k);
  });

  it('cuts queries and fragments and collapses paths to /*', () => {
    assert.equal(labelSafe('api:443/users/42?token=x'), 'api:443/*');
    assert.equal(labelSafe('api:443?token=x'), 'api:443');
    assert.equal(labelSafe('http://u:p@api:80/x#y'), 'http://api:80/*');
    assert.equal(labelSafe('dns+srv://_http._tcp.users/x'), 'dns+srv://_http._tcp.users/*');
  });
});

it('routeTemplate turns id-like segments into {id} and drops the query', () => {
  assert.equal(routeTemplate('/secret/42?token=x'), '/secret/{id}');
  assert.equal(routeTemplate('/users/42/orders/9f8e7d6c5b4a'), '/users/{id}/orders/{id}');
  assert.equal(routeTemplate('/a/123e4567-e89b-12d3-a456-426614174000'), '/a/{id}');
  assert.equal(routeTemplate('/v1/users/me'), '/v1/users/me');
  assert.equal(routeTemplate('/'), '/');
});
