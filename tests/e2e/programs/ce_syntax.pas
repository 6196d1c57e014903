program Broken;

begin
  writeln('missing parenthesis';
end.
