procedure Hello is
begin
   null
end Hello;
