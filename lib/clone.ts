// Deep copies of JSON values (what the API server stores and informers cache). klona's JSON
// copier walks plain objects and arrays: 5–8× faster than structuredClone, whose serialize and
// deserialize round trip was a sixth of Cluster API's CPU while 200 clusters came up (reads from
// the informer cache are copies, as controller-runtime's are). Anything that is not a plain
// object or array (a Date, a Map) is shared, not copied: use structuredClone for those.
import { klona } from 'klona/json';

export const cloneJson: <T>(value: T) => T = klona;
