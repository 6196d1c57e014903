'use strict';

const greeting = ['Hello', 'world'].join(', ');
console.log(`${greeting}!`);
